using System.CommandLine;
using System.CommandLine.Parsing;

namespace CbpGpu.Runner.Cli;

/// <summary>
/// An option that takes one of a few words (any case) standing for values of <typeparamref name="T"/>. The parsed
/// value is the word as listed, so help shows defaults as the user types them; <see cref="Get"/> gives the value.
/// </summary>
public sealed class ChoiceOption<T> : Option<string>, IChoiceWords
{
    private readonly (string Word, T Value)[] _choices;

    /// <param name="defaultWord">The word used when the option is absent; null when the default depends on other options.</param>
    public ChoiceOption(string name, string description, string? defaultWord, params (string Word, T Value)[] choices) : base(name)
    {
        _choices = choices;
        string words = string.Join('|', choices.Select(c => c.Word));
        HelpName = words;
        Description = description;
        if (defaultWord is not null)
        {
            if (Array.FindIndex(choices, c => c.Word == defaultWord) < 0)
                throw new ArgumentException($"default '{defaultWord}' of {name} is not one of {words}", nameof(defaultWord));
            DefaultValueFactory = _ => defaultWord;
        }
        CustomParser = r =>
        {
            string text = r.Tokens[^1].Value;
            int i = Array.FindIndex(choices, c => string.Equals(c.Word, text, StringComparison.OrdinalIgnoreCase));
            if (i >= 0) return choices[i].Word;
            r.AddError($"{name} must be one of {words}, not '{text}'");
            return null;
        };
    }

    /// <summary>The words, as listed.</summary>
    public IReadOnlyList<string> Words => Array.ConvertAll(_choices, c => c.Word);

    /// <summary>The value chosen, or the default's; throws if the option has neither (use <see cref="TryGet"/>).</summary>
    public T Get(ParseResult result) =>
        TryGet(result, out T value) ? value : throw new InvalidOperationException($"{Name} has no value and no default");

    /// <summary>The word that stands for <paramref name="value"/> (for descriptions of defaults set elsewhere).</summary>
    public string WordFor(T value) => Array.Find(_choices, c => EqualityComparer<T>.Default.Equals(c.Value, value)).Word
        ?? throw new ArgumentException($"{value} is not a choice of {Name}", nameof(value));

    /// <summary>The first listed word for the value <paramref name="word"/> stands for (--reset-adam-state true is all).</summary>
    public string CanonicalWord(string word)
    {
        int i = Array.FindIndex(_choices, c => string.Equals(c.Word, word, StringComparison.OrdinalIgnoreCase));
        return i < 0 ? word : WordFor(_choices[i].Value);
    }

    public bool TryGet(ParseResult result, out T value)
    {
        string? word = result.GetValue(this);
        int i = Array.FindIndex(_choices, c => c.Word == word);
        value = i >= 0 ? _choices[i].Value : default!;
        return i >= 0;
    }
}

/// <summary>A choice option whatever its value type: the one spelling of each of its words.</summary>
public interface IChoiceWords
{
    string CanonicalWord(string word);
}
