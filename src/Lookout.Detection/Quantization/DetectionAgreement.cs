namespace Lookout.Detection.Quantization;

/// <summary>
/// How closely one model's detections follow another's on the same images. A detection (score ≥ the threshold) is
/// matched when the other model has one of the same class at IoU ≥ 0.5 scoring at least half the threshold: a box
/// whose score moves from 0.26 to 0.24 is the same object found, not a lost one. <see cref="Matched"/> is the lower of
/// the two directions (float detections kept, int8 detections that float also has), so lost and invented detections
/// both lower it. The shift is the mean corner distance of the pairs in pixels of the model input (original pixels ×
/// the letterbox scale), where one pixel means the same for every photo size.
/// </summary>
public sealed record DetectionAgreement(int Images, int ReferenceDetections, int CandidateDetections, int ReferenceMatched,
    int CandidateMatched, double MeanShiftPx)
{
    /// <summary>The mean shift of the confident pairs only (both boxes scoring ≥ the threshold): reported beside <see cref="MeanShiftPx"/>, not gated on (docs/int8.md).</summary>
    public double ConfidentShiftPx { get; init; }

    public const double MatchIou = 0.5;

    /// <summary>The share of a threshold the partner of a detection must reach.</summary>
    public const float PartnerScoreShare = 0.5f;

    public double Kept => ReferenceDetections == 0 ? 1 : (double)ReferenceMatched / ReferenceDetections;
    public double Faithful => CandidateDetections == 0 ? 1 : (double)CandidateMatched / CandidateDetections;
    public double Matched => Math.Min(Kept, Faithful);

    public bool Meets(double minMatched, double maxShiftPx) => Matched >= minMatched && MeanShiftPx <= maxShiftPx;

    public override string ToString() =>
        $"{ReferenceMatched} of {ReferenceDetections} float detections kept, {CandidateMatched} of {CandidateDetections} int8 detections found by float too " +
        $"(matched {Matched:P1}), mean box shift {MeanShiftPx:0.00} px ({ConfidentShiftPx:0.00} px between confident pairs)";

    /// <summary>Accumulates the comparison image by image, from detections made at <see cref="PartnerScoreShare"/> of the threshold.</summary>
    public sealed class Builder(int inputWidth, int inputHeight, float threshold)
    {
        private int _images, _reference, _candidate, _referenceMatched, _candidateMatched, _pairs, _confidentPairs;
        private double _shift, _confidentShift;

        public float Threshold { get; } = threshold;

        public void Add(DetectionResult reference, DetectionResult candidate)
        {
            _images++;
            double toInput = Math.Min((double)inputWidth / reference.ImageWidth, (double)inputHeight / reference.ImageHeight);
            var (n, matched, shift, pairs, confidentShift, confidentPairs) = Match(reference.Detections, candidate.Detections, toInput);
            _reference += n;
            _referenceMatched += matched;
            _shift += shift;
            _pairs += pairs;
            _confidentShift += confidentShift;
            _confidentPairs += confidentPairs;
            (n, matched, _, _, _, _) = Match(candidate.Detections, reference.Detections, toInput);
            _candidate += n;
            _candidateMatched += matched;
        }

        private (int Count, int Matched, double Shift, int Pairs, double ConfidentShift, int ConfidentPairs) Match(
            IReadOnlyList<Detection> from, IReadOnlyList<Detection> to, double toInput)
        {
            int count = 0, matched = 0, confidentPairs = 0;
            double shift = 0, confidentShift = 0;
            var used = new bool[to.Count];
            foreach (var r in from.Where(d => d.Score >= Threshold).OrderByDescending(d => d.Score))
            {
                count++;
                int best = -1;
                double bestIou = MatchIou;
                for (int j = 0; j < to.Count; j++)
                {
                    var c = to[j];
                    if (used[j] || c.ClassId != r.ClassId || c.Score < Threshold * PartnerScoreShare) continue;
                    double iou = BoundingBox.IntersectionOverUnion(r.Box, c.Box);
                    if (iou >= bestIou) (best, bestIou) = (j, iou);
                }
                if (best < 0) continue;
                used[best] = true;
                matched++;
                var b = to[best].Box;
                double d = toInput * (Math.Abs(r.Box.X1 - b.X1) + Math.Abs(r.Box.Y1 - b.Y1) + Math.Abs(r.Box.X2 - b.X2) + Math.Abs(r.Box.Y2 - b.Y2)) / 4;
                shift += d;
                if (to[best].Score >= Threshold) (confidentShift, confidentPairs) = (confidentShift + d, confidentPairs + 1);
            }
            return (count, matched, shift, matched, confidentShift, confidentPairs);
        }

        public DetectionAgreement Build() => new(_images, _reference, _candidate, _referenceMatched, _candidateMatched, _pairs == 0 ? 0 : _shift / _pairs)
        {
            ConfidentShiftPx = _confidentPairs == 0 ? 0 : _confidentShift / _confidentPairs,
        };
    }
}
