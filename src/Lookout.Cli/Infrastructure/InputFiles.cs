using System.Text;
using System.Text.RegularExpressions;

namespace Lookout.Cli.Infrastructure;

/// <summary>One image or video file to process, or an argument that matched nothing (reported as a failure).</summary>
public sealed record InputFile(string Path, string? Problem = null)
{
    /// <summary>Whether the file is read as a video (through ffmpeg) rather than decoded as a photo.</summary>
    public bool IsVideo => Problem is null && InputFiles.IsVideo(Path);
}

/// <summary>
/// Turns command-line paths into image and video files: a file is taken as given (a video when its extension is one
/// of <see cref="VideoExtensions"/>, else an image whatever its extension); a folder is searched recursively for
/// images (.jpg .jpeg .png .webp .bmp .gif) and videos (.mp4 .mkv .webm .avi .mov …); an argument containing * ? or [ is a glob
/// (<c>*.jpg</c>, <c>photos/**/*.png</c>; <c>**</c> crosses folders, <c>*</c> and <c>?</c> do not), matched
/// case-sensitively on Linux. Files are listed once each, folders and globs in ordinal path order.
/// </summary>
public static class InputFiles
{
    public static readonly IReadOnlySet<string> ImageExtensions =
        new HashSet<string>([".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif"], StringComparer.OrdinalIgnoreCase);

    /// <summary>Containers read as videos through ffmpeg (any codec it decodes inside them).</summary>
    public static readonly IReadOnlySet<string> VideoExtensions =
        new HashSet<string>([".mp4", ".m4v", ".mkv", ".webm", ".avi", ".mov", ".mpg", ".mpeg", ".ts", ".wmv", ".flv", ".3gp"],
            StringComparer.OrdinalIgnoreCase);

    public static IReadOnlyList<InputFile> Expand(IEnumerable<string> arguments)
    {
        var result = new List<InputFile>();
        var seen = new HashSet<string>(OperatingSystem.IsWindows() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
        void Add(string path, string display)
        {
            if (seen.Add(System.IO.Path.GetFullPath(path))) result.Add(new InputFile(display));
        }

        foreach (var arg in arguments)
        {
            if (File.Exists(arg)) Add(arg, arg);
            else if (Directory.Exists(arg))
            {
                var images = Directory.EnumerateFiles(arg, "*", SearchOption.AllDirectories)
                    .Where(f => IsImage(f) || IsVideo(f)).Order(StringComparer.Ordinal).ToList();
                if (images.Count == 0) result.Add(new InputFile(arg, "the folder holds no images (.jpg .jpeg .png .webp .bmp .gif) or videos (.mp4 .mkv .webm .avi .mov …)"));
                foreach (var f in images) Add(f, f);
            }
            else if (IsGlob(arg))
            {
                var matches = Glob(arg);
                if (matches.Count == 0) result.Add(new InputFile(arg, "no file matches this pattern"));
                foreach (var f in matches) Add(f, f);
            }
            else result.Add(new InputFile(arg, "no such file or folder"));
        }
        return result;
    }

    public static bool IsImage(string path) => ImageExtensions.Contains(System.IO.Path.GetExtension(path));

    public static bool IsVideo(string path) => VideoExtensions.Contains(System.IO.Path.GetExtension(path));

    public static bool IsGlob(string arg) => arg.AsSpan().IndexOfAny("*?[") >= 0;

    /// <summary>Files matching a glob pattern, relative patterns against the current folder.</summary>
    public static IReadOnlyList<string> Glob(string pattern)
    {
        var normalized = pattern.Replace('\\', '/');
        var segments = normalized.Split('/');
        // The fixed folder prefix: segments before the first one with a wildcard.
        int firstWild = Array.FindIndex(segments, s => IsGlob(s));
        var baseDir = string.Join('/', segments[..firstWild]);
        if (baseDir.Length == 0) baseDir = normalized.StartsWith('/') ? "/" : ".";
        if (!Directory.Exists(baseDir)) return [];
        var rest = string.Join('/', segments[firstWild..]);
        var regex = ToRegex(rest);
        bool recursive = rest.Contains("**") || rest.Contains('/');
        return Directory.EnumerateFiles(baseDir, "*", recursive ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly)
            .Where(f => regex.IsMatch(System.IO.Path.GetRelativePath(baseDir, f).Replace('\\', '/')))
            .Select(f => baseDir == "." ? System.IO.Path.GetRelativePath(".", f) : f)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Glob → anchored regex: <c>**/</c> any folders (or none), <c>**</c> anything, <c>*</c> and <c>?</c> within one name, <c>[...]</c> a class.</summary>
    internal static Regex ToRegex(string glob)
    {
        var sb = new StringBuilder("^");
        for (int i = 0; i < glob.Length; i++)
        {
            char c = glob[i];
            if (c == '*' && i + 1 < glob.Length && glob[i + 1] == '*')
            {
                bool slash = i + 2 < glob.Length && glob[i + 2] == '/';
                sb.Append(slash ? "(?:.*/)?" : ".*");
                i += slash ? 2 : 1;
            }
            else if (c == '*') sb.Append("[^/]*");
            else if (c == '?') sb.Append("[^/]");
            else if (c == '[' && glob.IndexOf(']', i + 1) is var end and > 0)
            {
                var body = glob[(i + 1)..end];
                if (body.StartsWith('!')) body = "^" + body[1..];
                sb.Append('[').Append(body.Replace("\\", "\\\\")).Append(']');
                i = end;
            }
            else sb.Append(Regex.Escape(c.ToString()));
        }
        sb.Append('$');
        var options = RegexOptions.CultureInvariant | (OperatingSystem.IsWindows() ? RegexOptions.IgnoreCase : RegexOptions.None);
        return new Regex(sb.ToString(), options);
    }

    /// <summary>
    /// Output names <c>&lt;stem&gt;.jpg</c> for annotated images, one per input, without collisions: the first file
    /// with a stem keeps it, later ones (same stem in another folder, or dog.jpg beside dog.png) get <c>-2</c>, <c>-3</c>….
    /// </summary>
    public static IReadOnlyList<string> OutputNames(IEnumerable<string> inputs)
    {
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var names = new List<string>();
        foreach (var input in inputs)
        {
            var stem = System.IO.Path.GetFileNameWithoutExtension(input);
            var name = stem + ".jpg";
            for (int n = 2; !used.Add(name); n++) name = $"{stem}-{n}.jpg";
            names.Add(name);
        }
        return names;
    }
}
