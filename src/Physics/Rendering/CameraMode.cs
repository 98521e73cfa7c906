namespace CbpGpu.Physics.Rendering;

/// <summary>Where the video's camera is (docs/render.md#camera).</summary>
public enum CameraMode
{
    /// <summary>Follows the torso from the side at a fixed distance, so the floor's grid shows the ant's speed.</summary>
    Track,

    /// <summary>Stays above the start, looking at it; a fast ant walks out of view.</summary>
    Fixed,
}
