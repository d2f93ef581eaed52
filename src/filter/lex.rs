//! The lexer: words, numbers, operators, with the column of each token
//! for error messages.

use super::tree::*;
use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok<'a> {
    /// Keyword, number, address or name.
    Word(&'a str),
    /// `\name`: a name that would otherwise be a keyword (`ip proto \tcp`).
    Escaped(&'a str),
    LParen,
    RParen,
    And,
    Or,
    Not,
    Slash,
    Rel(RelOp),
    End,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Token<'a> {
    pub(super) tok: Tok<'a>,
    /// Byte offset of the token's first character.
    pub(super) pos: usize,
    pub(super) text: &'a str,
}

pub(super) fn is_word_start(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b':'
}

pub(super) fn is_word_char(c: u8) -> bool {
    is_word_start(c) || c == b'.' || c == b'-'
}

pub(super) fn column(src: &str, pos: usize) -> usize {
    src.get(..pos).map_or(pos, |s| s.chars().count()) + 1
}

pub(super) const ARITHMETIC: &str =
    "arithmetic and packet-byte expressions (proto[offset]) are not implemented";

pub(super) fn lex(src: &str) -> Result<Vec<Token<'_>>, FilterError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0usize;
    while let Some(&c) = b.get(i) {
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let next = b.get(i + 1).copied();
        let (tok, len) = match (c, next) {
            (b'(', _) => (Tok::LParen, 1),
            (b')', _) => (Tok::RParen, 1),
            (b'/', _) => (Tok::Slash, 1),
            (b'&', Some(b'&')) => (Tok::And, 2),
            (b'|', Some(b'|')) => (Tok::Or, 2),
            (b'!', Some(b'=')) => (Tok::Rel(RelOp::Ne), 2),
            (b'!', _) => (Tok::Not, 1),
            (b'=', Some(b'=')) => (Tok::Rel(RelOp::Eq), 2),
            (b'=', _) => (Tok::Rel(RelOp::Eq), 1),
            (b'<', Some(b'=')) => (Tok::Rel(RelOp::Le), 2),
            (b'>', Some(b'=')) => (Tok::Rel(RelOp::Ge), 2),
            (b'<' | b'>', Some(b'<' | b'>')) => {
                return Err(unsupported(src, start, &src[start..start + 2], ARITHMETIC))
            }
            (b'<', _) => (Tok::Rel(RelOp::Lt), 1),
            (b'>', _) => (Tok::Rel(RelOp::Gt), 1),
            (b'\\', _) => {
                let end = scan_word(b, i + 1);
                if end == i + 1 {
                    return Err(FilterError::Expected {
                        column: column(src, start),
                        expected: "a name after `\\`",
                        found: found_at(src, i + 1),
                    });
                }
                (Tok::Escaped(&src[i + 1..end]), end - i)
            }
            (c, _) if is_word_start(c) => {
                let end = scan_word(b, i);
                let w = &src[i..end];
                let tok = match w {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    _ => Tok::Word(w),
                };
                (tok, end - i)
            }
            (b'[' | b']' | b'+' | b'-' | b'*' | b'%' | b'^' | b'&' | b'|', _) => {
                return Err(unsupported(src, start, &src[start..start + 1], ARITHMETIC))
            }
            _ => {
                return Err(FilterError::Expected {
                    column: column(src, start),
                    expected: "a word, `(`, `)`, `!`, `&&`, `||` or a comparison",
                    found: found_at(src, start),
                })
            }
        };
        i += len;
        out.push(Token {
            tok,
            pos: start,
            text: &src[start..i],
        });
    }
    out.push(Token {
        tok: Tok::End,
        pos: src.len(),
        text: "",
    });
    Ok(out)
}

pub(super) fn scan_word(b: &[u8], from: usize) -> usize {
    let mut end = from;
    if b.get(end).is_some_and(|&c| is_word_start(c)) {
        while b.get(end).is_some_and(|&c| is_word_char(c)) {
            end += 1;
        }
    }
    end
}

/// The character at `pos` (or end of expression), for error messages.
pub(super) fn found_at(src: &str, pos: usize) -> String {
    match src.get(pos..).and_then(|s| s.chars().next()) {
        Some(c) => format!("`{c}`"),
        None => "end of expression".to_owned(),
    }
}

pub(super) fn unsupported(src: &str, pos: usize, word: &str, why: &'static str) -> FilterError {
    FilterError::Unsupported {
        column: column(src, pos),
        word: word.to_owned(),
        why,
    }
}
