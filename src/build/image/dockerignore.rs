//! `.dockerignore` patterns, read and matched as the Docker CLI does. Pure.
//!
//! - One pattern a line; `#` starts a comment line; blank lines are skipped; surrounding
//!   whitespace is trimmed. `!` makes an exception (the path is included again).
//! - Patterns are cleaned like paths (`./a/../b/` → `b`) and a leading `/` is dropped: every
//!   pattern is relative to the context's root.
//! - `*` matches any run of characters except `/`, `?` one such character, `[a-z]`/`[!a-z]` a
//!   class, `\` escapes the next character, and `**` any number of directories (`**/x` also
//!   matches `x` at the root).
//! - A path is excluded when the last pattern matching it *or one of its parent directories*
//!   is not an exception.

/// One piece of a compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Literal(char),
    /// `?`.
    AnyChar,
    /// `*`.
    Star,
    /// `**/`: zero or more whole directories.
    AnyDirectories,
    /// `**` elsewhere: anything, `/` included.
    Anything,
    /// `[...]`: ranges, negated or not.
    Class {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
}

/// One `.dockerignore` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnorePattern {
    /// The cleaned pattern text.
    pub text: String,
    /// `!pattern`: includes what earlier patterns excluded.
    pub exception: bool,
    tokens: Vec<Token>,
}

/// The patterns of one `.dockerignore` file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DockerIgnore {
    patterns: Vec<IgnorePattern>,
}

impl DockerIgnore {
    /// Parses the text of a `.dockerignore` file.
    pub fn parse(text: &str) -> DockerIgnore {
        let mut patterns = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exception, rest) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let cleaned = clean_path(rest);
            if cleaned.is_empty() {
                continue;
            }
            patterns.push(IgnorePattern {
                tokens: compile(&cleaned),
                text: cleaned,
                exception,
            });
        }
        DockerIgnore { patterns }
    }

    /// Whether any pattern is an exception (excluded directories must then still be walked).
    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|pattern| pattern.exception)
    }

    /// Whether `path` (relative to the context, `/`-separated) is left out of the context.
    pub fn is_excluded(&self, path: &str) -> bool {
        let path = clean_path(path);
        let mut excluded = false;
        for pattern in &self.patterns {
            if self_or_parent_matches(&pattern.tokens, &path) {
                excluded = !pattern.exception;
            }
        }
        excluded
    }
}

fn self_or_parent_matches(tokens: &[Token], path: &str) -> bool {
    if matches(tokens, &path.chars().collect::<Vec<_>>()) {
        return true;
    }
    let mut prefix = String::new();
    let components: Vec<&str> = path.split('/').collect();
    for component in &components[..components.len().saturating_sub(1)] {
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(component);
        if matches(tokens, &prefix.chars().collect::<Vec<_>>()) {
            return true;
        }
    }
    false
}

/// `path` cleaned as Go's `filepath.Clean` does, without a leading `/`.
fn clean_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

fn compile(pattern: &str) -> Vec<Token> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        index += 1;
        match c {
            '*' if chars.get(index) == Some(&'*') => {
                index += 1;
                if chars.get(index) == Some(&'/') {
                    index += 1;
                    tokens.push(Token::AnyDirectories);
                } else {
                    tokens.push(Token::Anything);
                }
            }
            '*' => tokens.push(Token::Star),
            '?' => tokens.push(Token::AnyChar),
            '\\' if index < chars.len() => {
                tokens.push(Token::Literal(chars[index]));
                index += 1;
            }
            '[' => match compile_class(&chars[index..]) {
                Some((token, used)) => {
                    tokens.push(token);
                    index += used;
                }
                None => tokens.push(Token::Literal('[')),
            },
            other => tokens.push(Token::Literal(other)),
        }
    }
    tokens
}

/// A class after its `[`: the token and how many characters it used (`]` included).
fn compile_class(chars: &[char]) -> Option<(Token, usize)> {
    let mut index = 0;
    let negated = matches!(chars.first(), Some('!' | '^'));
    if negated {
        index += 1;
    }
    let mut ranges = Vec::new();
    while index < chars.len() {
        let mut low = chars[index];
        if low == ']' && !ranges.is_empty() {
            return Some((Token::Class { ranges, negated }, index + 1));
        }
        if low == '\\' {
            index += 1;
            low = *chars.get(index)?;
        }
        index += 1;
        let mut high = low;
        if chars.get(index) == Some(&'-') && chars.get(index + 1).is_some_and(|c| *c != ']') {
            high = chars[index + 1];
            index += 2;
        }
        ranges.push((low, high));
    }
    None
}

fn matches(tokens: &[Token], text: &[char]) -> bool {
    let Some((first, rest)) = tokens.split_first() else {
        return text.is_empty();
    };
    match first {
        Token::Literal(c) => text.first() == Some(c) && matches(rest, &text[1..]),
        Token::AnyChar => text.first().is_some_and(|c| *c != '/') && matches(rest, &text[1..]),
        Token::Class { ranges, negated } => {
            text.first().is_some_and(|c| {
                *c != '/' && ranges.iter().any(|(low, high)| low <= c && c <= high) != *negated
            }) && matches(rest, &text[1..])
        }
        Token::Star => {
            let mut skip = 0;
            loop {
                if matches(rest, &text[skip..]) {
                    return true;
                }
                if skip >= text.len() || text[skip] == '/' {
                    return false;
                }
                skip += 1;
            }
        }
        Token::Anything => (0..=text.len()).any(|skip| matches(rest, &text[skip..])),
        Token::AnyDirectories => {
            // Zero directories, or up to and including any `/`.
            matches(rest, text)
                || (0..text.len())
                    .filter(|index| text[*index] == '/')
                    .any(|index| matches(rest, &text[index + 1..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DockerIgnore;

    #[test]
    fn patterns_exclude_paths_as_the_docker_cli_does() {
        let cases: &[(&str, &str, bool)] = &[
            ("*.log", "debug.log", true),
            ("*.log", "logs/debug.log", false),
            ("**/*.log", "logs/deep/debug.log", true),
            ("**/*.log", "debug.log", true),
            ("node_modules", "node_modules/a/b.js", true),
            ("/target", "target/debug/x", true),
            ("./build/../dist", "dist/app.js", true),
            ("temp?", "temp1", true),
            ("temp?", "temp1/x", true),
            ("temp?", "temp/x", false),
            ("temp?", "temp12", false),
            ("[a-c]*.txt", "b1.txt", true),
            ("[!a-c]*.txt", "b1.txt", false),
            ("[!a-c]*.txt", "d1.txt", true),
            ("docs/**", "docs/a/b.md", true),
            ("docs/**", "docsx", false),
            ("a/**/z", "a/z", true),
            ("a/**/z", "a/b/c/z", true),
            ("\\*x", "*x", true),
            ("\\*x", "ax", false),
            ("# comment", "# comment", false),
        ];
        for (pattern, path, excluded) in cases {
            let ignore = DockerIgnore::parse(pattern);
            assert_eq!(ignore.is_excluded(path), *excluded, "{pattern} vs {path}");
        }
    }

    #[test]
    fn the_last_matching_pattern_wins_and_exceptions_include_again() {
        let ignore = DockerIgnore::parse("# cache\n*.md\n!README.md\n  \nsecret/\n!secret/keep\n");
        assert!(ignore.is_excluded("CHANGES.md"));
        assert!(!ignore.is_excluded("README.md"));
        assert!(ignore.is_excluded("secret/key"));
        assert!(!ignore.is_excluded("secret/keep"));
        assert!(!ignore.is_excluded("src/main.rs"));
        assert!(ignore.has_exceptions());
        assert!(!DockerIgnore::parse("*.md").has_exceptions());
    }
}
