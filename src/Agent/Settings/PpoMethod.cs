using System.Text.Json;
using System.Text.Json.Serialization;

namespace CbpGpu.Agent.Settings;

/// <summary>
/// A plasticity method's name as config.json records it (Ppo.Method: "Standard", "Cbp", ...). Each method's own file
/// adds its static member (PpoMethod.Cbp); <see cref="Methods.MethodRegistry"/> turns the name into the method.
/// </summary>
[JsonConverter(typeof(PpoMethodJsonConverter))]
public readonly partial record struct PpoMethod(string Name)
{
    public override string ToString() => Name;
}

/// <summary>config.json writes a method as its plain name, as the enum this replaced did.</summary>
internal sealed class PpoMethodJsonConverter : JsonConverter<PpoMethod>
{
    public override PpoMethod Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && reader.GetString() is { Length: > 0 } name
            ? new PpoMethod(name)
            : throw new JsonException("Ppo.Method is not a method's name");

    public override void Write(Utf8JsonWriter writer, PpoMethod value, JsonSerializerOptions options) => writer.WriteStringValue(value.Name);
}
