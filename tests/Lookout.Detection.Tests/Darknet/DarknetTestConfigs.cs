using System.Text;

namespace Lookout.Detection.Tests.Darknet;

/// <summary>Well-known cfgs written out here (from their published layer lists) because their
/// files are not among the shared assets; only the inference-relevant keys are kept.</summary>
internal static class DarknetTestConfigs
{
    private const string TinyAnchors = "anchors = 10,14,  23,27,  37,58,  81,82,  135,169,  344,319";

    public static string YoloV3Tiny { get; } = Build(416, sb =>
    {
        foreach (int filters in new[] { 16, 32, 64, 128, 256 })
        {
            Conv(sb, filters, 3, 1);
            MaxPool(sb, 2, 2);
        }

        Conv(sb, 512, 3, 1);
        MaxPool(sb, 2, 1); // 13x13 stays 13x13: darknet pads one pixel after
        Conv(sb, 1024, 3, 1);
        Conv(sb, 256, 1, 1);
        Conv(sb, 512, 3, 1);
        Conv(sb, 255, 1, 1, batchNormalize: false, activation: "linear");
        Yolo(sb, "3,4,5", TinyAnchors, 6);
        sb.Append("[route]\nlayers = -4\n\n");
        Conv(sb, 128, 1, 1);
        sb.Append("[upsample]\nstride=2\n\n");
        sb.Append("[route]\nlayers = -1, 8\n\n");
        Conv(sb, 256, 3, 1);
        Conv(sb, 255, 1, 1, batchNormalize: false, activation: "linear");
        Yolo(sb, "1,2,3", TinyAnchors, 6);
    });

    public static string YoloV4Tiny { get; } = Build(416, sb =>
    {
        Conv(sb, 32, 3, 2);
        Conv(sb, 64, 3, 2);
        foreach (int filters in new[] { 64, 128, 256 })
        {
            // The CSP block: half of the channels (group_id=1 of 2) go through two convs.
            Conv(sb, filters, 3, 1);
            sb.Append("[route]\nlayers=-1\ngroups=2\ngroup_id=1\n\n");
            Conv(sb, filters / 2, 3, 1);
            Conv(sb, filters / 2, 3, 1);
            sb.Append("[route]\nlayers = -1,-2\n\n");
            Conv(sb, filters, 1, 1);
            sb.Append("[route]\nlayers = -6,-1\n\n");
            if (filters < 256)
            {
                MaxPool(sb, 2, 2);
            }
        }

        MaxPool(sb, 2, 2);
        Conv(sb, 512, 3, 1);
        Conv(sb, 256, 1, 1);
        Conv(sb, 512, 3, 1);
        Conv(sb, 255, 1, 1, batchNormalize: false, activation: "linear");
        Yolo(sb, "3,4,5", TinyAnchors, 6, scaleXY: "1.05");
        sb.Append("[route]\nlayers = -4\n\n");
        Conv(sb, 128, 1, 1);
        sb.Append("[upsample]\nstride=2\n\n");
        sb.Append("[route]\nlayers = -1, 23\n\n");
        Conv(sb, 256, 3, 1);
        Conv(sb, 255, 1, 1, batchNormalize: false, activation: "linear");
        Yolo(sb, "1,2,3", TinyAnchors, 6, scaleXY: "1.05");
    });

    /// <summary>Not a published network: a small one that runs every supported activation, a
    /// grouped conv, an activated shortcut, an odd-sized stride-2 pool, dropout and a 3-class head.</summary>
    public static string Activations { get; } = Build(96, sb =>
    {
        Conv(sb, 16, 3, 2, activation: "mish");
        Conv(sb, 16, 3, 1, activation: "swish", groups: 4);
        Conv(sb, 16, 1, 1, activation: "logistic");
        sb.Append("[shortcut]\nfrom=-3\nactivation=leaky\n\n");
        Conv(sb, 32, 3, 2, activation: "relu");
        MaxPool(sb, 2, 2); // 24 -> 12
        Conv(sb, 32, 3, 2); // 12 -> 6
        MaxPool(sb, 2, 2); // 6 -> 3
        MaxPool(sb, 3, 2); // 3 -> 2 with darknet's padding
        sb.Append("[dropout]\nprobability=.2\n\n");
        Conv(sb, 24, 1, 1, batchNormalize: false, activation: "linear");
        sb.Append("[yolo]\nmask = 0,1,2\nanchors = 10,14, 23,27, 37,58\nclasses=3\nnum=3\n\n");
    });

    private static string Build(int size, Action<StringBuilder> layers)
    {
        var sb = new StringBuilder($"[net]\nbatch=1\nsubdivisions=1\nwidth={size}\nheight={size}\nchannels=3\n\n");
        layers(sb);
        return sb.ToString();
    }

    private static void Conv(StringBuilder sb, int filters, int size, int stride, bool batchNormalize = true, string activation = "leaky", int groups = 1)
    {
        sb.Append("[convolutional]\n");
        if (batchNormalize)
        {
            sb.Append("batch_normalize=1\n");
        }

        if (groups != 1)
        {
            sb.Append($"groups={groups}\n");
        }

        sb.Append($"filters={filters}\nsize={size}\nstride={stride}\npad=1\nactivation={activation}\n\n");
    }

    private static void MaxPool(StringBuilder sb, int size, int stride) => sb.Append($"[maxpool]\nsize={size}\nstride={stride}\n\n");

    private static void Yolo(StringBuilder sb, string mask, string anchors, int num, string? scaleXY = null)
    {
        sb.Append($"[yolo]\nmask = {mask}\n{anchors}\nclasses=80\nnum={num}\njitter=.3\nignore_thresh = .7\ntruth_thresh = 1\nrandom=1\n");
        if (scaleXY is not null)
        {
            sb.Append($"scale_x_y = {scaleXY}\n");
        }

        sb.Append('\n');
    }
}
