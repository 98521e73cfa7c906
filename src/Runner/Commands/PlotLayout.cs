using ScottPlot;
using SkiaSharp;

namespace CbpGpu.Runner.Commands;

/// <summary>One legend entry: a line's label and colour, and whether the line marks its points.</summary>
public sealed record LegendEntry(string Text, Color Color, bool Markers = true);

/// <summary>
/// How `Runner plot` lays out a figure so that nothing in it is hidden (docs/sweeps.md#figures, issue 25): panels in a
/// grid and, when the figure has several lines, their legend in a strip of its own right of the panels, never over
/// data; every title and axis label wrapped at spaces to the width it has, measured with ScottPlot's own text
/// measurement; legend labels wrapped to <see cref="LegendLabelWidth"/>.
/// </summary>
public static class PlotLayout
{
    /// <summary>The widest a legend label's line may be, in pixels.</summary>
    public const float LegendLabelWidth = 420;

    private const float LegendFontSize = 14;

    /// <summary>The least room right of a panel's axes, in pixels: half of a tick label like "1,100,000".</summary>
    private const float RightMargin = 40;

    /// <summary>The figure: <paramref name="panels"/> in rows of <paramref name="columns"/>, each panel <paramref name="panelWidth"/> x <paramref name="panelHeight"/>, and the legend strip (the last subplot) when <paramref name="legend"/> has entries.</summary>
    public sealed class Figure
    {
        public required Multiplot Multiplot { get; init; }
        public required IReadOnlyList<Plot> Panels { get; init; }
        public Plot? Legend { get; init; }
        public required int Width { get; init; }
        public required int Height { get; init; }
    }

    public static Figure Compose(IReadOnlyList<Plot> panels, int columns, int panelWidth, int panelHeight, IReadOnlyList<LegendEntry> legend)
    {
        columns = Math.Max(1, Math.Min(columns, panels.Count));
        int rows = (panels.Count + columns - 1) / columns;
        var multi = new Multiplot();
        while (multi.Subplots.Count > 0) multi.Subplots.RemoveAt(0);
        foreach (var panel in panels)
        {
            // Room right of the axes for half the last x tick label, which would otherwise be cut at the panel's edge.
            panel.Axes.Right.MinimumSize = Math.Max(panel.Axes.Right.MinimumSize, RightMargin);
            multi.Subplots.Add(panel);
        }
        Plot? key = legend.Count == 0 ? null : LegendPlot(legend);
        float stripWidth = 0;
        if (key is not null)
        {
            multi.Subplots.Add(key);
            using var paint = Paint.NewDisposablePaint();
            var rect = key.Legend.GetLayout(new PixelSize(4000, 4000), paint).LegendRect;
            stripWidth = MathF.Ceiling(rect.Width + key.Legend.Margin.Horizontal + 4);
        }
        multi.Layout = new PanelsAndLegend(rows, columns, stripWidth);
        var figure = new Figure
        {
            Multiplot = multi, Panels = panels, Legend = key,
            Width = columns * panelWidth + (int)stripWidth, Height = rows * panelHeight,
        };
        FitTexts(figure);
        return figure;
    }

    /// <summary>A plot that draws only the legend: no axes, no grid, the entries from its top left corner.</summary>
    private static Plot LegendPlot(IReadOnlyList<LegendEntry> entries)
    {
        var key = new Plot();
        key.Layout.Frameless(true);
        key.HideGrid();
        key.Axes.Frame(false);
        key.Legend.FontSize = LegendFontSize;
        var style = new LabelStyle { FontSize = LegendFontSize };
        key.ShowLegend([.. entries.Select(e => new LegendItem
        {
            LabelText = Wrap(style, e.Text, LegendLabelWidth),
            LineColor = e.Color,
            LineWidth = 2,
            MarkerColor = e.Color,
            MarkerShape = MarkerShape.FilledCircle,
            MarkerSize = e.Markers ? 5 : 0,
        })], Alignment.UpperLeft);
        return key;
    }

    /// <summary>
    /// Wraps each panel's title and x label to its data area's width and its y label to the data area's height; a
    /// wrapped label takes room from the data area, so this renders and wraps again until nothing changes.
    /// </summary>
    private static void FitTexts(Figure figure)
    {
        for (int pass = 0; pass < 4; pass++)
        {
            Render(figure);
            bool changed = false;
            foreach (var plot in figure.Panels)
            {
                var data = plot.RenderManager.LastRender.DataRect;
                changed |= Rewrap(plot.Axes.Title.Label, data.Width);
                changed |= Rewrap(plot.Axes.Bottom.Label, data.Width);
                changed |= Rewrap(plot.Axes.Left.Label, data.Height);
            }
            if (!changed) return;
        }
        Render(figure);
    }

    private static bool Rewrap(LabelStyle label, float width)
    {
        if (string.IsNullOrEmpty(label.Text)) return false;
        string wrapped = Wrap(label, label.Text.Replace('\n', ' '), width);
        if (wrapped == label.Text) return false;
        label.Text = wrapped;
        return true;
    }

    /// <summary>The figure rendered in memory, so that each subplot's last render holds its rectangles.</summary>
    public static void Render(Figure figure)
    {
        using var surface = SKSurface.Create(new SKImageInfo(figure.Width, figure.Height));
        figure.Multiplot.Render(surface.Canvas, new PixelRect(0, figure.Width, figure.Height, 0));
    }

    /// <summary>Text broken at spaces into lines no wider than <paramref name="width"/> pixels in <paramref name="style"/>'s font (a single longer word stays whole).</summary>
    public static string Wrap(LabelStyle style, string text, float width)
    {
        using var paint = Paint.NewDisposablePaint();
        var lines = new List<string>();
        string current = "";
        foreach (string word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            string trial = current.Length == 0 ? word : $"{current} {word}";
            if (current.Length > 0 && style.Measure(trial, paint).Width > width)
            {
                lines.Add(current);
                current = word;
            }
            else current = trial;
        }
        lines.Add(current);
        return string.Join('\n', lines);
    }

    /// <summary>The width of the widest line of <paramref name="text"/> in <paramref name="style"/>'s font, as ScottPlot measures it.</summary>
    public static float Measure(LabelStyle style, string text)
    {
        using var paint = Paint.NewDisposablePaint();
        return style.Measure(text, paint).Width;
    }

    /// <summary>Panels in a grid left of a legend strip of <paramref name="legendWidth"/> pixels (the last subplot) as tall as the figure.</summary>
    private sealed class PanelsAndLegend(int rows, int columns, float legendWidth) : IMultiplotLayout
    {
        public PixelRect[] GetSubplotRectangles(SubplotCollection subplots, PixelRect figure)
        {
            int panels = subplots.Count - (legendWidth > 0 ? 1 : 0);
            float w = (figure.Width - legendWidth) / columns, h = figure.Height / rows;
            var rects = new PixelRect[subplots.Count];
            for (int i = 0; i < panels; i++)
            {
                int r = i / columns, c = i % columns;
                rects[i] = new PixelRect(figure.Left + c * w, figure.Left + (c + 1) * w, figure.Top + (r + 1) * h, figure.Top + r * h);
            }
            if (legendWidth > 0) rects[^1] = new PixelRect(figure.Right - legendWidth, figure.Right, figure.Bottom, figure.Top);
            return rects;
        }
    }
}
