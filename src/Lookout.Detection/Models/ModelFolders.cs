namespace Lookout.Detection.Models;

/// <summary>
/// One model found in a models folder: <c>NAME.onnx</c>, or a Darknet <c>NAME.cfg</c> + <c>NAME.weights</c> pair,
/// with an optional <c>NAME.names</c> beside it. <see cref="Problem"/> is set when the files cannot make a model
/// (a cfg without its weights, a name the catalogue already uses); such entries are listed, never loaded.
/// </summary>
public sealed record FolderModel(
    string Name,
    string Kind,
    string Directory,
    string Path,
    string? WeightsPath,
    string? NamesPath,
    long Size,
    DateTime LastWriteUtc,
    string? Problem = null)
{
    /// <summary>Size and time of every file the model reads: a change in any of them is a new version of the model.</summary>
    public (long Size, DateTime LastWriteUtc) Fingerprint => (Size, LastWriteUtc);
}

/// <summary>
/// Reads models folders. Only the folder's own files count (no recursion); hidden files (".x.onnx.tmp", what
/// write-then-rename tools write first) and files whose real location is outside the folder (a symlink leading
/// out) are ignored, so nothing outside the configured folders is ever opened.
/// </summary>
public static class ModelFolders
{
    /// <summary>Environment prefix of the folder list, as ASP.NET Core configuration spells <c>Lookout:ModelDirectories:N</c>.</summary>
    public const string EnvironmentPrefix = "LOOKOUT__MODELDIRECTORIES__";

    /// <summary>The folders named by LOOKOUT__MODELDIRECTORIES__0, __1, … in index order.</summary>
    public static IReadOnlyList<string> FromEnvironment() =>
        Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase)
                        && int.TryParse(k.AsSpan(EnvironmentPrefix.Length), out _))
            .OrderBy(k => int.Parse(k.AsSpan(EnvironmentPrefix.Length)))
            .Select(k => Environment.GetEnvironmentVariable(k)!)
            .Where(v => !string.IsNullOrWhiteSpace(v))
            .ToArray();

    /// <summary>
    /// Whether a client-supplied model name is a plain name: no path separators, no "..", no NUL or other control
    /// characters, not empty and not absurdly long. Anything else is refused before any lookup.
    /// </summary>
    public static bool IsPlainName(string name) =>
        name.Length is > 0 and <= 128
        && !name.Contains('/') && !name.Contains('\\') && !name.Contains("..")
        && !name.Any(char.IsControl)
        && name.Trim() == name;

    /// <summary>
    /// Every model in <paramref name="directories"/>, first folder first. A name found again later (another folder,
    /// or a .cfg beside a .onnx of the same name) keeps the first; a name in <paramref name="reservedNames"/>
    /// (the catalogue's) is listed with a problem instead.
    /// </summary>
    public static IReadOnlyList<FolderModel> Scan(IEnumerable<string> directories, Func<string, bool>? reservedNames = null,
        Action<string>? log = null)
    {
        var found = new Dictionary<string, FolderModel>(StringComparer.OrdinalIgnoreCase);
        foreach (var directory in directories)
        {
            foreach (var model in ScanOne(directory, log))
            {
                if (found.TryGetValue(model.Name, out var first))
                {
                    log?.Invoke($"Models folder: '{model.Path}' is ignored: the model '{model.Name}' is already '{first.Path}'.");
                    continue;
                }
                found[model.Name] = reservedNames?.Invoke(model.Name) == true && model.Problem is null
                    ? model with { Problem = $"'{model.Name}' is a catalogue model's name, and the catalogue model wins: rename the file to serve it." }
                    : model;
            }
        }
        return [.. found.Values];
    }

    private static IEnumerable<FolderModel> ScanOne(string directory, Action<string>? log)
    {
        string root;
        try
        {
            root = RealPath(new DirectoryInfo(directory));
            if (!System.IO.Directory.Exists(root)) yield break;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            yield break;
        }

        List<FileInfo> files;
        try
        {
            files = new DirectoryInfo(root).EnumerateFiles().Where(f => !f.Name.StartsWith('.')).ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            log?.Invoke($"Models folder '{root}' cannot be read: {ex.Message}");
            yield break;
        }

        var byName = new Dictionary<string, FileInfo>(StringComparer.OrdinalIgnoreCase);
        foreach (var f in files)
        {
            if (!IsInside(f, root))
            {
                log?.Invoke($"Models folder: '{f.FullName}' is ignored: it is a link to a file outside '{root}'.");
                continue;
            }
            byName.TryAdd(f.Name, f);
        }

        FileInfo? Beside(string stem, string extension) => byName.GetValueOrDefault(stem + extension);

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        // .onnx first, so a name with both an .onnx and a Darknet pair is the .onnx.
        foreach (var f in byName.Values.OrderBy(f => f.Extension.Equals(".onnx", StringComparison.OrdinalIgnoreCase) ? 0 : 1).ThenBy(f => f.Name, StringComparer.Ordinal))
        {
            var ext = f.Extension.ToLowerInvariant();
            if (ext is not (".onnx" or ".cfg")) continue;
            var stem = System.IO.Path.GetFileNameWithoutExtension(f.Name);
            if (!seen.Add(stem)) continue;
            var names = Beside(stem, ".names");
            if (ext == ".onnx")
            {
                yield return Make(stem, "onnx", root, f, null, names, null);
                continue;
            }
            var weights = Beside(stem, ".weights");
            yield return weights is null
                ? Make(stem, "darknet", root, f, null, names, $"Darknet config '{f.Name}' has no '{stem}.weights' beside it.")
                : Make(stem, "darknet", root, f, weights, names, null);
        }
    }

    private static FolderModel Make(string name, string kind, string root, FileInfo main, FileInfo? weights, FileInfo? names, string? problem)
    {
        FileInfo[] parts = [main, .. weights is null ? [] : new[] { weights }, .. names is null ? [] : new[] { names }];
        // Size and time of the real files (a link's own time says nothing about its target's bytes).
        long size = 0;
        var time = DateTime.MinValue;
        foreach (var p in parts)
        {
            var real = Target(p);
            size += real.Length;
            if (real.LastWriteTimeUtc > time) time = real.LastWriteTimeUtc;
        }
        return new FolderModel(name, kind, root, main.FullName, weights?.FullName, names?.FullName, size, time, problem);
    }

    private static FileInfo Target(FileInfo file) =>
        file.LinkTarget is null ? file : file.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? file;

    private static bool IsInside(FileInfo file, string root)
    {
        if (file.LinkTarget is null) return true;
        var target = file.ResolveLinkTarget(returnFinalTarget: true);
        if (target is null || !target.Exists) return false;
        var full = RealPath(target);
        return full.StartsWith(root.TrimEnd(System.IO.Path.DirectorySeparatorChar) + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    /// <summary>The path with every link in it resolved, so "inside the folder" is judged on real locations.</summary>
    private static string RealPath(FileSystemInfo info)
    {
        var full = System.IO.Path.GetFullPath(info.FullName);
        var parts = full.Split(System.IO.Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        var current = System.IO.Path.GetPathRoot(full) ?? "/";
        foreach (var part in parts)
        {
            current = System.IO.Path.Combine(current, part);
            FileSystemInfo step = System.IO.Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (step.LinkTarget is not null && step.ResolveLinkTarget(returnFinalTarget: true) is { } resolved)
                current = System.IO.Path.GetFullPath(resolved.FullName);
        }
        return current;
    }
}
