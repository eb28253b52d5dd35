//! The regular expression of `on-failure: RETRY-<regex>`, matched against the failed phase's
//! context message (`COMMAND_EXECUTION_ERROR: Error while executing command: …`).
//!
//! Slipway's dependencies hold no regex engine, and the executor must stay one static binary
//! that needs nothing from the build image, so this is a small backtracking matcher for the
//! subset retry patterns use: literals, `.`, `[...]` classes (ranges, `^` negation, escapes),
//! `\d \w \s` and their negations, `^`, `$`, groups `(...)`/`(?:...)`, `|`, and the quantifiers
//! `* + ? {n} {n,} {n,m}` (greedy). It searches (the pattern may match anywhere, like Go's
//! `MatchString`). A pattern it cannot parse is matched as a literal substring.
//!
//! # Caveats
//! Backtracking is exponential on pathological patterns; messages are one line, so this is
//! harmless in practice. Swap in the `regex` crate if it becomes a dependency.

/// Whether `pattern` matches somewhere in `text`.
pub fn matches(pattern: &str, text: &str) -> bool {
    let chars: Vec<char> = pattern.chars().collect();
    let mut parser = Parser {
        chars: &chars,
        at: 0,
    };
    let node = match parser.alternation() {
        Some(node) if parser.at == chars.len() => node,
        _ => return text.contains(pattern),
    };
    let input: Vec<char> = text.chars().collect();
    (0..=input.len()).any(|start| node.matches(&input, start, &mut |_| true))
}

#[derive(Debug)]
enum Node {
    Literal(char),
    Any,
    Class {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
    Start,
    End,
    Concat(Vec<Node>),
    Alternation(Vec<Node>),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
    },
}

struct Parser<'p> {
    chars: &'p [char],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let found = self.peek();
        self.at += usize::from(found.is_some());
        found
    }

    fn alternation(&mut self) -> Option<Node> {
        let mut branches = vec![self.concat()?];
        while self.peek() == Some('|') {
            self.at += 1;
            branches.push(self.concat()?);
        }
        Some(if branches.len() == 1 {
            branches.remove(0)
        } else {
            Node::Alternation(branches)
        })
    }

    fn concat(&mut self) -> Option<Node> {
        let mut items = Vec::new();
        while let Some(next) = self.peek() {
            if next == '|' || next == ')' {
                break;
            }
            let atom = self.atom()?;
            items.push(self.quantified(atom)?);
        }
        Some(Node::Concat(items))
    }

    fn atom(&mut self) -> Option<Node> {
        Some(match self.bump()? {
            '.' => Node::Any,
            '^' => Node::Start,
            '$' => Node::End,
            '(' => {
                if self.chars[self.at..].starts_with(&['?', ':']) {
                    self.at += 2;
                }
                let inner = self.alternation()?;
                (self.bump()? == ')').then_some(inner)?
            }
            '[' => self.class()?,
            '\\' => escape(self.bump()?),
            '*' | '+' | '?' | '{' | ')' => return None,
            other => Node::Literal(other),
        })
    }

    fn class(&mut self) -> Option<Node> {
        let negated = self.peek() == Some('^');
        self.at += usize::from(negated);
        let mut ranges = Vec::new();
        let mut first = true;
        loop {
            let item = self.bump()?;
            if item == ']' && !first {
                break;
            }
            first = false;
            let low = if item == '\\' {
                match escape(self.bump()?) {
                    Node::Literal(literal) => literal,
                    Node::Class {
                        ranges: more,
                        negated: false,
                    } => {
                        ranges.extend(more);
                        continue;
                    }
                    _ => return None,
                }
            } else {
                item
            };
            if self.peek() == Some('-') && self.chars.get(self.at + 1).is_some_and(|c| *c != ']') {
                self.at += 1;
                let high = self.bump()?;
                ranges.push((low, high));
            } else {
                ranges.push((low, low));
            }
        }
        Some(Node::Class { ranges, negated })
    }

    fn quantified(&mut self, atom: Node) -> Option<Node> {
        let (min, max) = match self.peek() {
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('?') => (0, Some(1)),
            Some('{') => return self.counted(atom),
            _ => return Some(atom),
        };
        self.at += 1;
        Some(Node::Repeat {
            node: Box::new(atom),
            min,
            max,
        })
    }

    fn counted(&mut self, atom: Node) -> Option<Node> {
        let close = self.chars[self.at..].iter().position(|c| *c == '}')? + self.at;
        let body: String = self.chars[self.at + 1..close].iter().collect();
        let (min, max) = match body.split_once(',') {
            None => (body.parse().ok()?, Some(body.parse().ok()?)),
            Some((low, "")) => (low.parse().ok()?, None),
            Some((low, high)) => (low.parse().ok()?, Some(high.parse().ok()?)),
        };
        self.at = close + 1;
        Some(Node::Repeat {
            node: Box::new(atom),
            min,
            max,
        })
    }
}

/// The meaning of `\c`.
fn escape(c: char) -> Node {
    let class = |ranges: Vec<(char, char)>, negated| Node::Class { ranges, negated };
    let digit = vec![('0', '9')];
    let word = vec![('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')];
    let space = vec![(' ', ' '), ('\t', '\r')];
    match c {
        'd' => class(digit, false),
        'D' => class(digit, true),
        'w' => class(word, false),
        'W' => class(word, true),
        's' => class(space, false),
        'S' => class(space, true),
        'n' => Node::Literal('\n'),
        't' => Node::Literal('\t'),
        other => Node::Literal(other),
    }
}

impl Node {
    /// Whether the node matches at `at`, calling `then` with each end position (backtracking
    /// until `then` accepts one).
    fn matches(&self, input: &[char], at: usize, then: &mut dyn FnMut(usize) -> bool) -> bool {
        match self {
            Node::Literal(expected) => input.get(at) == Some(expected) && then(at + 1),
            Node::Any => at < input.len() && input[at] != '\n' && then(at + 1),
            Node::Class { ranges, negated } => {
                input.get(at).is_some_and(|c| {
                    ranges.iter().any(|(low, high)| low <= c && c <= high) != *negated
                }) && then(at + 1)
            }
            Node::Start => at == 0 && then(at),
            Node::End => at == input.len() && then(at),
            Node::Concat(items) => concat(items, input, at, then),
            Node::Alternation(branches) => branches
                .iter()
                .any(|branch| branch.matches(input, at, then)),
            Node::Repeat { node, min, max } => repeat(node, *min, *max, 0, input, at, then),
        }
    }
}

fn concat(items: &[Node], input: &[char], at: usize, then: &mut dyn FnMut(usize) -> bool) -> bool {
    match items.split_first() {
        None => then(at),
        Some((first, rest)) => {
            first.matches(input, at, &mut |next| concat(rest, input, next, then))
        }
    }
}

fn repeat(
    node: &Node,
    min: u32,
    max: Option<u32>,
    done: u32,
    input: &[char],
    at: usize,
    then: &mut dyn FnMut(usize) -> bool,
) -> bool {
    let may_continue = max.is_none_or(|max| done < max);
    // Greedy: one more repetition first; an empty repetition would loop forever, so stop there.
    let more = may_continue
        && node.matches(input, at, &mut |next| {
            next != at && repeat(node, min, max, done + 1, input, next, then)
        });
    more || (done >= min && then(at))
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn retry_patterns_match_like_a_regex_search() {
        let message = "COMMAND_EXECUTION_ERROR: Error while executing command: make test. Reason: exit status 2";
        let cases = [
            ("exit status 2", true),
            ("exit status [0-9]+$", true),
            ("^COMMAND_EXECUTION_ERROR", true),
            ("^Error", false),
            ("make (test|lint)\\.", true),
            ("make (?:lint|fmt)", false),
            ("status \\d{1,2}$", true),
            ("status \\d{2}", false),
            ("Reason: .*2", true),
            ("[^A-Z_]ERROR", false),
            ("[^A-Z]ERROR", true),
            ("(unbalanced", false),
            ("", true),
        ];
        for (pattern, expected) in cases {
            assert_eq!(matches(pattern, message), expected, "pattern {pattern:?}");
        }
    }

    #[test]
    fn an_unparseable_pattern_is_a_literal() {
        assert!(matches("a(b", "xa(by"));
        assert!(!matches("a(b", "ab"));
    }
}
