#!/usr/bin/python3
"""Reference implementation of pycocotools' COCOeval for iouType='bbox', used to cross-check the C#
CocoEvaluator. pycocotools itself is not available here, so this follows PythonAPI/pycocotools/
cocoeval.py (evaluate / computeIoU / evaluateImg / accumulate / summarize), coco.py (loadRes for
bbox results) and maskApi.c (bbIou) step by step, with default Params (iouType='bbox').

Usage: coco_reference.py instances.json results.json
Prints a JSON object: {"stats": [12 floats], "per_category": {"<catId>": {"ap":..,"ap50":..}}}.
Only numpy is needed (Debian: python3-numpy).
"""
import json
import sys
from collections import defaultdict

import numpy as np


class Params:
    def __init__(self):
        self.imgIds = []
        self.catIds = []
        self.iouThrs = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
        self.recThrs = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
        self.maxDets = [1, 10, 100]
        self.areaRng = [[0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]]
        self.areaRngLbl = ['all', 'small', 'medium', 'large']
        self.useCats = 1


def bb_iou(dt, gt, iscrowd):
    """maskApi.c bbIou: boxes [x,y,w,h]; crowd gts use the detection area as the union."""
    if len(dt) == 0 or len(gt) == 0:
        return []
    ious = np.zeros((len(dt), len(gt)))
    for g, G in enumerate(gt):
        ga = G[2] * G[3]
        crowd = iscrowd[g]
        for d, D in enumerate(dt):
            da = D[2] * D[3]
            w = min(D[2] + D[0], G[2] + G[0]) - max(D[0], G[0])
            if w <= 0:
                continue
            h = min(D[3] + D[1], G[3] + G[1]) - max(D[1], G[1])
            if h <= 0:
                continue
            i = w * h
            u = da if crowd else da + ga - i
            ious[d, g] = i / u
    return ious


class Eval:
    def __init__(self, gt_json, dt_list):
        self.gt = gt_json
        p = Params()
        p.imgIds = sorted(img['id'] for img in gt_json['images'])
        p.catIds = sorted(c['id'] for c in gt_json['categories'])
        self.params = p
        # coco.py loadRes for bbox results
        img_ids = set(p.imgIds)
        assert set(d['image_id'] for d in dt_list) <= img_ids, 'Results do not correspond to current coco set'
        dts = []
        for i, ann in enumerate(dt_list):
            ann = dict(ann)
            bb = ann['bbox']
            ann['area'] = bb[2] * bb[3]
            ann['id'] = i + 1
            ann['iscrowd'] = 0
            dts.append(ann)
        self.dts_all = dts

    def _prepare(self):
        p = self.params
        cat_set = set(p.catIds)
        img_set = set(p.imgIds)
        # getAnnIds(imgIds, catIds): annotations grouped by image (imgToAnns order = file order)
        gts = [dict(a) for a in self.gt['annotations'] if a['image_id'] in img_set and a['category_id'] in cat_set]
        dts = [d for d in self.dts_all if d['image_id'] in img_set and d['category_id'] in cat_set]
        for gt in gts:
            gt['ignore'] = gt['ignore'] if 'ignore' in gt else 0
            gt['ignore'] = 'iscrowd' in gt and gt['iscrowd']
        self._gts = defaultdict(list)
        self._dts = defaultdict(list)
        for gt in gts:
            self._gts[gt['image_id'], gt['category_id']].append(gt)
        for dt in dts:
            self._dts[dt['image_id'], dt['category_id']].append(dt)

    def evaluate(self):
        p = self.params
        p.imgIds = list(np.unique(p.imgIds))
        p.catIds = list(np.unique(p.catIds))
        p.maxDets = sorted(p.maxDets)
        self._prepare()
        self.ious = {(imgId, catId): self.computeIoU(imgId, catId) for imgId in p.imgIds for catId in p.catIds}
        maxDet = p.maxDets[-1]
        self.evalImgs = [self.evaluateImg(imgId, catId, areaRng, maxDet)
                         for catId in p.catIds for areaRng in p.areaRng for imgId in p.imgIds]

    def computeIoU(self, imgId, catId):
        p = self.params
        gt = self._gts[imgId, catId]
        dt = self._dts[imgId, catId]
        if len(gt) == 0 and len(dt) == 0:
            return []
        inds = np.argsort([-d['score'] for d in dt], kind='mergesort')
        dt = [dt[i] for i in inds]
        if len(dt) > p.maxDets[-1]:
            dt = dt[0:p.maxDets[-1]]
        g = [g['bbox'] for g in gt]
        d = [d['bbox'] for d in dt]
        iscrowd = [int(o['iscrowd']) for o in gt]
        return bb_iou(d, g, iscrowd)

    def evaluateImg(self, imgId, catId, aRng, maxDet):
        p = self.params
        gt = self._gts[imgId, catId]
        dt = self._dts[imgId, catId]
        if len(gt) == 0 and len(dt) == 0:
            return None
        for g in gt:
            if g['ignore'] or (g['area'] < aRng[0] or g['area'] > aRng[1]):
                g['_ignore'] = 1
            else:
                g['_ignore'] = 0
        gtind = np.argsort([g['_ignore'] for g in gt], kind='mergesort')
        gt = [gt[i] for i in gtind]
        dtind = np.argsort([-d['score'] for d in dt], kind='mergesort')
        dt = [dt[i] for i in dtind[0:maxDet]]
        iscrowd = [int(o['iscrowd']) for o in gt]
        ious = self.ious[imgId, catId][:, gtind] if len(self.ious[imgId, catId]) > 0 else self.ious[imgId, catId]

        T = len(p.iouThrs)
        G = len(gt)
        D = len(dt)
        gtm = np.zeros((T, G))
        dtm = np.zeros((T, D))
        gtIg = np.array([g['_ignore'] for g in gt])
        dtIg = np.zeros((T, D))
        if not len(ious) == 0:
            for tind, t in enumerate(p.iouThrs):
                for dind, d in enumerate(dt):
                    iou = min([t, 1 - 1e-10])
                    m = -1
                    for gind, g in enumerate(gt):
                        if gtm[tind, gind] > 0 and not iscrowd[gind]:
                            continue
                        if m > -1 and gtIg[m] == 0 and gtIg[gind] == 1:
                            break
                        if ious[dind, gind] < iou:
                            continue
                        iou = ious[dind, gind]
                        m = gind
                    if m == -1:
                        continue
                    dtIg[tind, dind] = gtIg[m]
                    dtm[tind, dind] = gt[m]['id']
                    gtm[tind, m] = d['id']
        a = np.array([d['area'] < aRng[0] or d['area'] > aRng[1] for d in dt]).reshape((1, len(dt)))
        dtIg = np.logical_or(dtIg, np.logical_and(dtm == 0, np.repeat(a, T, 0)))
        return {
            'dtMatches': dtm,
            'dtScores': [d['score'] for d in dt],
            'gtIgnore': gtIg,
            'dtIgnore': dtIg,
        }

    def accumulate(self):
        p = self.params
        T = len(p.iouThrs)
        R = len(p.recThrs)
        K = len(p.catIds)
        A = len(p.areaRng)
        M = len(p.maxDets)
        precision = -np.ones((T, R, K, A, M))
        recall = -np.ones((T, K, A, M))
        I0 = len(p.imgIds)
        A0 = len(p.areaRng)
        for k in range(K):
            Nk = k * A0 * I0
            for a in range(A):
                Na = a * I0
                for m, maxDet in enumerate(p.maxDets):
                    E = [self.evalImgs[Nk + Na + i] for i in range(I0)]
                    E = [e for e in E if e is not None]
                    if len(E) == 0:
                        continue
                    dtScores = np.concatenate([e['dtScores'][0:maxDet] for e in E])
                    inds = np.argsort(-dtScores, kind='mergesort')
                    dtm = np.concatenate([e['dtMatches'][:, 0:maxDet] for e in E], axis=1)[:, inds]
                    dtIg = np.concatenate([e['dtIgnore'][:, 0:maxDet] for e in E], axis=1)[:, inds]
                    gtIg = np.concatenate([e['gtIgnore'] for e in E])
                    npig = np.count_nonzero(gtIg == 0)
                    if npig == 0:
                        continue
                    tps = np.logical_and(dtm, np.logical_not(dtIg))
                    fps = np.logical_and(np.logical_not(dtm), np.logical_not(dtIg))
                    tp_sum = np.cumsum(tps, axis=1).astype(dtype=float)
                    fp_sum = np.cumsum(fps, axis=1).astype(dtype=float)
                    for t, (tp, fp) in enumerate(zip(tp_sum, fp_sum)):
                        tp = np.array(tp)
                        fp = np.array(fp)
                        nd = len(tp)
                        rc = tp / npig
                        pr = tp / (fp + tp + np.spacing(1))
                        q = np.zeros((R,))
                        if nd:
                            recall[t, k, a, m] = rc[-1]
                        else:
                            recall[t, k, a, m] = 0
                        pr = pr.tolist()
                        q = q.tolist()
                        for i in range(nd - 1, 0, -1):
                            if pr[i] > pr[i - 1]:
                                pr[i - 1] = pr[i]
                        inds = np.searchsorted(rc, p.recThrs, side='left')
                        try:
                            for ri, pi in enumerate(inds):
                                q[ri] = pr[pi]
                        except IndexError:
                            pass
                        precision[t, :, k, a, m] = np.array(q)
        self.precision = precision
        self.recall = recall

    def summarize(self):
        p = self.params

        def _summarize(ap=1, iouThr=None, areaRng='all', maxDets=100):
            aind = [i for i, aRng in enumerate(p.areaRngLbl) if aRng == areaRng]
            mind = [i for i, mDet in enumerate(p.maxDets) if mDet == maxDets]
            if ap == 1:
                s = self.precision
                if iouThr is not None:
                    t = np.where(iouThr == p.iouThrs)[0]
                    s = s[t]
                s = s[:, :, :, aind, mind]
            else:
                s = self.recall
                if iouThr is not None:
                    t = np.where(iouThr == p.iouThrs)[0]
                    s = s[t]
                s = s[:, :, aind, mind]
            if len(s[s > -1]) == 0:
                return -1.0
            return float(np.mean(s[s > -1]))

        stats = [
            _summarize(1),
            _summarize(1, iouThr=.5, maxDets=p.maxDets[2]),
            _summarize(1, iouThr=.75, maxDets=p.maxDets[2]),
            _summarize(1, areaRng='small', maxDets=p.maxDets[2]),
            _summarize(1, areaRng='medium', maxDets=p.maxDets[2]),
            _summarize(1, areaRng='large', maxDets=p.maxDets[2]),
            _summarize(0, maxDets=p.maxDets[0]),
            _summarize(0, maxDets=p.maxDets[1]),
            _summarize(0, maxDets=p.maxDets[2]),
            _summarize(0, areaRng='small', maxDets=p.maxDets[2]),
            _summarize(0, areaRng='medium', maxDets=p.maxDets[2]),
            _summarize(0, areaRng='large', maxDets=p.maxDets[2]),
        ]
        per_category = {}
        for k, catId in enumerate(p.catIds):
            def mean_or_minus_one(s):
                return float(np.mean(s[s > -1])) if len(s[s > -1]) else -1.0
            per_category[str(int(catId))] = {
                'ap': mean_or_minus_one(self.precision[:, :, k, 0, 2]),
                'ap50': mean_or_minus_one(self.precision[0, :, k, 0, 2]),
                # the 101-point interpolated precision at IoU 0.5 (what the report's PR curves plot)
                'precision50': [float(v) for v in self.precision[0, :, k, 0, 2]],
            }
        return {'stats': stats, 'per_category': per_category}


def main():
    with open(sys.argv[1]) as f:
        gt = json.load(f)
    with open(sys.argv[2]) as f:
        dt = json.load(f)
    e = Eval(gt, dt)
    e.evaluate()
    e.accumulate()
    json.dump(e.summarize(), sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
