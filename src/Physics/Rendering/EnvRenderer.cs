using System.Globalization;
using System.Xml.Linq;
using CbpGpu.Physics.Native;

namespace CbpGpu.Physics.Rendering;

/// <summary>
/// Draws poses of one env with MuJoCo's own renderer into an offscreen framebuffer (docs/render.md#how-it-draws): one row
/// of tiles side by side, each a pose (a qpos of the env's <see cref="EnvView"/> model) seen by its own camera, with a
/// caption drawn by MuJoCo's overlay. It draws with a copy of the env's MJCF that adds only looks (a checkered floor, a
/// sky, a light), so it shows any pose and never touches an env's physics. The constructing thread must make every call.
/// </summary>
public sealed unsafe class EnvRenderer : IDisposable
{
    private const int MaxGeoms = 1000;

    private readonly EglContext _gl;
    private readonly MjModel _model;
    private readonly MjData _data;
    private readonly byte* _scene, _option, _context;
    private readonly byte*[] _cameras;
    private readonly byte[] _bottomUp;
    private readonly string _name;
    private bool _disposed;

    /// <param name="tileWidth">Pixels per tile across.</param>
    /// <param name="tileHeight">Pixels per tile down (the frame's height).</param>
    /// <param name="tiles">How many tiles side by side.</param>
    public EnvRenderer(EnvView view, int tileWidth, int tileHeight, int tiles, CameraMode camera)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentOutOfRangeException.ThrowIfLessThan(tileWidth, 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(tileHeight, 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(tiles, 1);
        TileWidth = tileWidth;
        Height = tileHeight;
        Width = tileWidth * tiles;
        Tiles = tiles;
        _name = Path.GetFileNameWithoutExtension(view.Asset);
        MjNative.EnsureLoaded();
        _gl = new EglContext();
        _scene = Alloc(MjLayout.VisSceneSize);
        _option = Alloc(MjLayout.VisOptionSize);
        _context = Alloc(MjLayout.RenderContextSize);
        _cameras = new byte*[tiles];
        try
        {
            _model = MjModel.FromXml(ViewXml(view.Asset, Width, Height), $"{_name}-view.xml");
            _data = new MjData(_model);
            MjNative.mjv_defaultOption(_option);
            MjNative.mjv_defaultScene(_scene);
            MjNative.mjr_defaultContext(_context);
            MjNative.mjv_makeScene(_model.Ptr, _scene, MaxGeoms);
            // The caption's font: MuJoCo's larger one from 480 pixels up, so it covers about the same share of any tile.
            MjNative.mjr_makeContext(_model.Ptr, _context, tileHeight >= 480 ? MjNative.FontScale150 : MjNative.FontScale100);
            MjNative.mjr_setBuffer(MjNative.FramebufferOffscreen, _context);
            int offWidth = *(int*)(_context + MjLayout.RenderContextOffWidth), offHeight = *(int*)(_context + MjLayout.RenderContextOffHeight);
            if (*(int*)(_context + MjLayout.RenderContextCurrentBuffer) != MjNative.FramebufferOffscreen || offWidth < Width || offHeight < Height)
                throw new PhysicsException($"OpenGL could not make a {Width}x{Height} offscreen framebuffer (got {offWidth}x{offHeight}); ask for a smaller --width, --height or fewer runs side by side");
            for (int t = 0; t < tiles; t++)
            {
                _cameras[t] = Alloc(MjLayout.VisCameraSize);
                MjNative.mjv_defaultCamera(_cameras[t]);
                SetCamera(_cameras[t], camera == CameraMode.Track ? view.Track : view.Fixed);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
        _bottomUp = new byte[Width * Height * 3];
    }

    public int TileWidth { get; }

    /// <summary>The view model's qpos size: what <see cref="Draw"/> takes and <see cref="EnvView.Pose"/> writes.</summary>
    public int PoseSize => _data.Nq;
    public int Tiles { get; }

    /// <summary>The whole frame: all tiles across.</summary>
    public int Width { get; }
    public int Height { get; }

    /// <summary>Draws <paramref name="qpos"/> (<see cref="PoseSize"/> positions of the view model) into tile <paramref name="tile"/> with a two-column caption.</summary>
    /// <param name="labels">The caption's left column, lines separated by '\n'.</param>
    /// <param name="values">Its right column, one line per label.</param>
    public void Draw(int tile, ReadOnlySpan<double> qpos, string labels, string values)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(tile);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(tile, Tiles);
        if (qpos.Length != _data.Nq) throw new ArgumentException($"a {_name} pose has {_data.Nq} positions, got {qpos.Length}", nameof(qpos));
        qpos.CopyTo(_data.Qpos);
        _data.Qvel.Clear();
        _data.Forward(_model);
        var viewport = new MjrRect(tile * TileWidth, 0, TileWidth, Height);
        MjNative.mjv_updateScene(_model.Ptr, _data.Ptr, _option, null, _cameras[tile], MjNative.CategoryAll, _scene);
        MjNative.mjr_render(viewport, _scene, _context);
        MjNative.mjr_overlay(MjNative.FontNormal, MjNative.GridTopLeft, viewport, labels, values, _context);
    }

    /// <summary>The frame drawn so far as RGB bytes, rows top to bottom (Width x Height x 3).</summary>
    public void ReadFrame(Span<byte> rgb)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int row = Width * 3;
        if (rgb.Length != row * Height) throw new ArgumentException($"a {Width}x{Height} RGB frame has {row * Height} bytes, got {rgb.Length}", nameof(rgb));
        fixed (byte* p = _bottomUp) MjNative.mjr_readPixels(p, null, new MjrRect(0, 0, Width, Height), _context);
        // OpenGL's rows run bottom to top; video rows run top to bottom.
        for (int y = 0; y < Height; y++)
            _bottomUp.AsSpan((Height - 1 - y) * row, row).CopyTo(rgb.Slice(y * row, row));
    }

    private static void SetCamera(byte* camera, ViewCamera view)
    {
        if (view.TrackBody >= 0)
        {
            *(int*)(camera + MjLayout.CameraType) = MjNative.CameraTracking;
            *(int*)(camera + MjLayout.CameraTrackBodyId) = view.TrackBody;
        }
        else
        {
            *(int*)(camera + MjLayout.CameraType) = MjNative.CameraFree;
            double* lookat = (double*)(camera + MjLayout.CameraLookat);
            lookat[0] = view.LookatX;
            lookat[1] = view.LookatY;
            lookat[2] = view.LookatZ;
        }
        *(double*)(camera + MjLayout.CameraDistance) = view.Distance;
        *(double*)(camera + MjLayout.CameraAzimuth) = view.Azimuth;
        *(double*)(camera + MjLayout.CameraElevation) = view.Elevation;
    }

    /// <summary>
    /// The env's MJCF with looks added: an offscreen buffer of the frame's size, a checkered floor (its squares show
    /// how fast the body moves), a sky gradient and a light from above. Bodies, joints and geoms are unchanged, so
    /// a qpos of the physics model is a pose of this one.
    /// </summary>
    internal static string ViewXml(string asset, int width, int height)
    {
        var doc = XDocument.Parse(MjcfAsset.Xml(asset));
        var root = doc.Root!;
        string Num(int v) => v.ToString(CultureInfo.InvariantCulture);
        root.AddFirst(new XElement("visual",
            new XElement("global", new XAttribute("offwidth", Num(width)), new XAttribute("offheight", Num(height))),
            new XElement("quality", new XAttribute("offsamples", "0"))));
        root.Add(new XElement("asset",
            new XElement("texture", new XAttribute("name", "sky"), new XAttribute("type", "skybox"), new XAttribute("builtin", "gradient"),
                new XAttribute("rgb1", ".4 .6 .8"), new XAttribute("rgb2", "0 0 0"), new XAttribute("width", "256"), new XAttribute("height", "256")),
            new XElement("texture", new XAttribute("name", "grid"), new XAttribute("type", "2d"), new XAttribute("builtin", "checker"),
                new XAttribute("rgb1", ".1 .2 .3"), new XAttribute("rgb2", ".2 .3 .4"), new XAttribute("width", "256"), new XAttribute("height", "256")),
            new XElement("material", new XAttribute("name", "grid"), new XAttribute("texture", "grid"),
                new XAttribute("texrepeat", "1 1"), new XAttribute("texuniform", "true"))));
        var world = root.Element("worldbody")!;
        var floor = world.Elements("geom").Single(g => (string?)g.Attribute("name") == "floor");
        floor.SetAttributeValue("material", "grid");
        world.AddFirst(new XElement("light", new XAttribute("directional", "true"), new XAttribute("pos", "0 0 5"),
            new XAttribute("dir", "0 0 -1"), new XAttribute("diffuse", ".8 .8 .8"), new XAttribute("castshadow", "false")));
        return doc.ToString(SaveOptions.DisableFormatting);
    }

    private static byte* Alloc(int size) => (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)size);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_context != null)
        {
            MjNative.mjr_freeContext(_context);
            System.Runtime.InteropServices.NativeMemory.Free(_context);
        }
        if (_scene != null)
        {
            MjNative.mjv_freeScene(_scene);
            System.Runtime.InteropServices.NativeMemory.Free(_scene);
        }
        if (_option != null) System.Runtime.InteropServices.NativeMemory.Free(_option);
        foreach (byte* c in _cameras)
            if (c != null) System.Runtime.InteropServices.NativeMemory.Free(c);
        _data?.Dispose();
        _model?.Dispose();
        _gl.Dispose();
    }
}
