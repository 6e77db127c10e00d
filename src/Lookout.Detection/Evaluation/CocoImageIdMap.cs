using System.Globalization;

namespace Lookout.Detection.Evaluation;

/// <summary>
/// Maps the string image ids of this library to the integer <c>image_id</c> of COCO JSON.
/// </summary>
/// <remarks>
/// Rule: if every image id is a plain non-negative decimal integer (digits only, fits an int) and no two
/// give the same number, the number is used (YOLO stem "000000000009" → 9, as in COCO file names).
/// Otherwise all images are numbered sequentially 1..N in the order given — never a mix, so numbers
/// cannot collide.
/// </remarks>
public sealed class CocoImageIdMap
{
    private readonly Dictionary<string, int> _toCoco;
    private readonly Dictionary<int, string> _fromCoco;

    private CocoImageIdMap(Dictionary<string, int> toCoco, bool isNumeric)
    {
        _toCoco = toCoco;
        _fromCoco = toCoco.ToDictionary(p => p.Value, p => p.Key);
        IsNumeric = isNumeric;
    }

    /// <summary>True when ids are the numeric image ids, false when sequential 1..N.</summary>
    public bool IsNumeric { get; }

    public int Count => _toCoco.Count;

    /// <exception cref="ArgumentException">Duplicate image id.</exception>
    public static CocoImageIdMap Create(IEnumerable<string> imageIds)
    {
        var ids = imageIds.ToList();
        if (ids.Distinct(StringComparer.Ordinal).Count() != ids.Count)
            throw new ArgumentException("Duplicate image id.", nameof(imageIds));

        var numeric = new Dictionary<string, int>(StringComparer.Ordinal);
        var seen = new HashSet<int>();
        bool allNumeric = true;
        foreach (var id in ids)
        {
            if (id.Length == 0 || !id.All(char.IsAsciiDigit)
                || !int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out int n)
                || !seen.Add(n))
            {
                allNumeric = false;
                break;
            }
            numeric[id] = n;
        }
        if (allNumeric) return new CocoImageIdMap(numeric, true);

        var sequential = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < ids.Count; i++) sequential[ids[i]] = i + 1;
        return new CocoImageIdMap(sequential, false);
    }

    /// <exception cref="KeyNotFoundException">Unknown image id.</exception>
    public int ToCoco(string imageId) =>
        _toCoco.TryGetValue(imageId, out int id) ? id : throw new KeyNotFoundException($"Unknown image id '{imageId}'.");

    /// <exception cref="KeyNotFoundException">Unknown COCO image id.</exception>
    public string FromCoco(int cocoImageId) =>
        _fromCoco.TryGetValue(cocoImageId, out var id) ? id : throw new KeyNotFoundException($"Unknown COCO image id {cocoImageId}.");

    public bool TryFromCoco(int cocoImageId, out string imageId) =>
        _fromCoco.TryGetValue(cocoImageId, out imageId!);
}
