//! Reading the command lines a model sends through `exec_command`, without running them.
//!
//! Four questions are answered here: which simple commands a line runs ([`split_commands`]),
//! whether every one of them only reads ([`is_known_safe`], which lets the `untrusted` approval
//! policy run the line unasked), what the line does, for display ([`command_actions`]), and
//! whether it is an `apply_patch` call sent through the shell ([`parse_apply_patch`]).
//!
//! We follow a deliberately small slice of shell: words, quotes, backslash escapes, comments and
//! the operators `&&`, `||`, `;` and `|`. Anything more (redirections, expansions, substitutions,
//! subshells, background jobs, heredocs) makes a line opaque, and an opaque line is never safe.
//! Running commands and asking for approval live elsewhere.

use std::iter::Peekable;
use std::path::Path;
use std::str::Chars;

use tern_protocol::v2::CommandAction;

/// An `apply_patch` call the model sent through the shell rather than as its own tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchInvocation {
    /// The patch text: a heredoc's lines, each ending in a newline, or the single argument as
    /// given. It is not checked here; the patch parser reports what is wrong with it.
    pub patch: String,
    /// The folder of a leading `cd <dir> &&`, as written.
    pub workdir: Option<String>,
}

/// Splits a command line into its simple commands (joined by `&&`, `||`, `;` or `|`), as words.
///
/// Quotes and backslash escapes are honoured, newlines separate commands like `;`, comments are
/// dropped, and globs stay plain words. `None` when the line holds nothing, is incomplete (an
/// open quote, a trailing `&&`), or uses more shell than that: redirections, `$` expansions,
/// command substitution, subshells, brace expansion, background `&` or heredocs.
pub fn split_commands(line: &str) -> Option<Vec<Vec<String>>> {
    parse(line).map(|segments| segments.into_iter().map(|segment| segment.words).collect())
}

/// True when every simple command of `line` is known to only read, so it may run without
/// approval under the `untrusted` policy.
///
/// Known means a small allow-list of programs, some of them only without the flags that make
/// them write or run other programs (`find -exec`, `sort -o`, `rg --pre`, `git branch -D`, ...),
/// and `bash -lc '<line>'`-style wrappers around such a line. Anything else is not safe.
pub fn is_known_safe(line: &str) -> bool {
    parse(line).is_some_and(|segments| {
        segments
            .iter()
            .all(|segment| is_safe_command(&segment.words))
    })
}

/// Best-effort actions of a command line, one per simple command, for display.
///
/// Shell wrappers are unwrapped, a `cd` that only sets where the rest runs is dropped, and so is
/// a formatter (`head`, `wc`, `sort`, ...) reading a pipe, so `cat f | head -n 5` shows as one
/// read. A line we cannot split is a single [`CommandAction::Unknown`] holding all of it.
/// `Read` paths stay as the command gave them.
pub fn command_actions(line: &str) -> Vec<CommandAction> {
    let Some(segments) = parse(line) else {
        return vec![CommandAction::Unknown {
            command: line.to_owned(),
        }];
    };
    let is_only_cd = segments.iter().all(|segment| is_cd(&segment.words));
    let mut actions = Vec::new();
    for segment in &segments {
        let words = segment.words.as_slice();
        if let Some(script) = wrapped_script(words) {
            actions.extend(command_actions(script));
            continue;
        }
        let is_cd_context = is_cd(words) && !is_only_cd;
        let is_formatting = segment.connector == Some(Connector::Pipe) && is_pipe_formatter(words);
        if !is_cd_context && !is_formatting {
            actions.push(action(words));
        }
    }
    actions
}

/// Recognises an `apply_patch` (or `applypatch`) invocation sent through the shell.
///
/// Two shapes count, each optionally after `cd <dir> && ` and inside a `bash -lc` wrapper: the
/// patch as a heredoc (`apply_patch <<'EOF'`, `<<EOF`, `<<"EOF"`, any delimiter word) with
/// nothing but blank lines after its delimiter, or the patch as the single argument.
pub fn parse_apply_patch(line: &str) -> Option<PatchInvocation> {
    let Some(segments) = parse(line) else {
        return heredoc_patch(line);
    };
    let (workdir, words) = after_cd(&segments)?;
    match words {
        [program, patch] if is_apply_patch(program) => Some(PatchInvocation {
            patch: patch.clone(),
            workdir,
        }),
        _ if workdir.is_none() => wrapped_script(words).and_then(parse_apply_patch),
        _ => None,
    }
}

// Splitting lines.

/// How a simple command is joined to the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Connector {
    And,
    Or,
    Pipe,
    /// `;` or a newline.
    Sequence,
}

/// One simple command of a line.
struct Segment {
    /// The operator before this command; `None` for the first.
    connector: Option<Connector>,
    /// Its words with quotes removed; never empty.
    words: Vec<String>,
}

enum Token {
    Word(String),
    Operator(Connector),
    Newline,
}

/// Splits `line` into simple commands, or `None` as [`split_commands`] describes.
fn parse(line: &str) -> Option<Vec<Segment>> {
    let mut segments = Vec::new();
    let mut words = Vec::new();
    let mut connector = None;
    for token in tokenize(line)? {
        let next = match token {
            Token::Word(text) => {
                words.push(text);
                continue;
            }
            // Blank lines, and a line break after an operator, end no command.
            Token::Newline if words.is_empty() => continue,
            Token::Newline => Connector::Sequence,
            Token::Operator(next) => next,
        };
        if words.is_empty() {
            return None;
        }
        segments.push(Segment {
            connector,
            words: std::mem::take(&mut words),
        });
        connector = Some(next);
    }
    if words.is_empty() {
        // A line ending in `&&`, `||` or `|` is incomplete; one without a command is empty.
        if connector != Some(Connector::Sequence) {
            return None;
        }
    } else {
        segments.push(Segment { connector, words });
    }
    Some(segments)
}

/// Reads words and operators, or `None` at the first piece of shell we do not follow.
fn tokenize(line: &str) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    // The word being read; `Some("")` after `''`, which is a word of its own.
    let mut word: Option<String> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => end_word(&mut word, &mut tokens),
            '\n' => {
                end_word(&mut word, &mut tokens);
                tokens.push(Token::Newline);
            }
            '#' if word.is_none() => {
                // A comment runs to the end of the line.
                while chars.next_if(|&next| next != '\n').is_some() {}
            }
            '\'' => {
                let text = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        other => text.push(other),
                    }
                }
            }
            '"' => {
                let text = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        // Double quotes still expand `$` and backticks.
                        '$' | '`' => return None,
                        '\\' => match chars.next()? {
                            '\n' => {}
                            escaped @ ('$' | '`' | '"' | '\\') => text.push(escaped),
                            other => {
                                text.push('\\');
                                text.push(other);
                            }
                        },
                        other => text.push(other),
                    }
                }
            }
            '\\' => match chars.next()? {
                '\n' => {}
                escaped => word.get_or_insert_with(String::new).push(escaped),
            },
            '&' | '|' | ';' => {
                end_word(&mut word, &mut tokens);
                tokens.push(Token::Operator(operator(c, &mut chars)?));
            }
            '{' => {
                // `{}` is literal (`find ... -exec cmd {} +`); other braces may expand.
                chars.next_if_eq(&'}')?;
                word.get_or_insert_with(String::new).push_str("{}");
            }
            '<' | '>' | '(' | ')' | '}' | '$' | '`' => return None,
            other => word.get_or_insert_with(String::new).push(other),
        }
    }
    end_word(&mut word, &mut tokens);
    Some(tokens)
}

fn end_word(word: &mut Option<String>, tokens: &mut Vec<Token>) {
    if let Some(text) = word.take() {
        tokens.push(Token::Word(text));
    }
}

/// Reads the rest of the operator that starts with `first`; `None` for a background `&`, `|&`
/// and `;;`.
fn operator(first: char, chars: &mut Peekable<Chars<'_>>) -> Option<Connector> {
    let is_doubled = chars.next_if_eq(&first).is_some();
    match (first, is_doubled) {
        ('&', true) => Some(Connector::And),
        ('|', true) => Some(Connector::Or),
        ('|', false) if chars.peek() != Some(&'&') => Some(Connector::Pipe),
        (';', false) => Some(Connector::Sequence),
        _ => None,
    }
}

/// Shells whose `-c` script we look inside.
const SHELLS: &[&str] = &[
    "bash",
    "sh",
    "zsh",
    "/bin/bash",
    "/bin/sh",
    "/bin/zsh",
    "/usr/bin/bash",
    "/usr/bin/zsh",
];

/// The script of `bash -lc '<script>'`, `sh -c '<script>'` and the like.
fn wrapped_script(words: &[String]) -> Option<&str> {
    match words {
        [shell, flag, script]
            if SHELLS.contains(&shell.as_str()) && matches!(flag.as_str(), "-c" | "-lc") =>
        {
            Some(script.as_str())
        }
        _ => None,
    }
}

/// The program and its arguments, borrowed.
fn program_and_args(words: &[String]) -> Option<(&str, Vec<&str>)> {
    let (program, args) = words.split_first()?;
    Some((program.as_str(), args.iter().map(String::as_str).collect()))
}

fn is_cd(words: &[String]) -> bool {
    words.first().map(String::as_str) == Some("cd")
}

/// The operands of `args`: what is neither a flag nor the value of one of `value_flags`
/// (space-separated).
fn operands<'a>(args: &[&'a str], value_flags: &str) -> Vec<&'a str> {
    let mut operands = Vec::new();
    let mut args = args.iter().copied();
    while let Some(arg) = args.next() {
        if arg == "--" {
            operands.extend(args.by_ref());
        } else if value_flags.split_whitespace().any(|flag| flag == arg) {
            args.next();
        } else if arg.len() < 2 || !arg.starts_with('-') {
            operands.push(arg);
        }
    }
    operands
}

/// Flags that take the next word as their value, space-separated, so operands can be told
/// from values.
fn value_flags(program: &str) -> &'static str {
    match program {
        "head" | "tail" => "-n -c -s --lines --bytes --sleep-interval --pid",
        "nl" => "-b -d -f -h -i -l -n -s -v -w",
        "sort" => {
            "-k -o -S -t -T --key --output --buffer-size --field-separator \
             --temporary-directory --parallel"
        }
        "uniq" => "-f -s -w --skip-fields --skip-chars --check-chars",
        "cut" => "-b -c -d -f --bytes --characters --delimiter --fields --output-delimiter",
        "ls" => {
            "-I -T -w --hide --ignore --tabsize --width --block-size --format --sort --time \
             --time-style --quoting-style --indicator-style"
        }
        "tree" => "-L -P -I -o -H -T --filelimit --charset --sort --timefmt",
        "grep" => {
            "-e -f -m -A -B -C -d -D --regexp --file --max-count --after-context \
             --before-context --context --directories --devices --include --exclude \
             --exclude-dir --exclude-from --label --binary-files"
        }
        "rg" => {
            "-e -f -g -t -T -A -B -C -m -M -j -d -r -E --regexp --file --glob --iglob --type \
             --type-not --type-add --type-clear --after-context --before-context --context \
             --max-count --max-columns --max-depth --max-filesize --threads --replace \
             --encoding --engine --sort --sortr --color --colors --context-separator \
             --field-match-separator --field-context-separator --path-separator --pre \
             --pre-glob --ignore-file --hostname-bin --hyperlink-format --dfa-size-limit \
             --regex-size-limit"
        }
        _ => "",
    }
}

// Knowing what only reads.

/// Programs that only read, whatever their arguments.
const READ_ONLY_PROGRAMS: &[&str] = &[
    "basename", "cat", "cd", "cut", "df", "dirname", "du", "echo", "false", "grep", "head", "id",
    "ls", "nl", "printenv", "pwd", "readlink", "realpath", "stat", "tail", "tr", "true", "uname",
    "wc", "which", "whoami",
];

/// `find` actions that write, delete or run programs.
const FIND_UNSAFE_ACTIONS: &[&str] = &[
    "-exec", "-execdir", "-ok", "-okdir", "-delete", "-fls", "-fprint", "-fprint0", "-fprintf",
];

/// `git branch` flags that only list.
const GIT_BRANCH_LISTING_FLAGS: &[&str] = &[
    "--show-current",
    "--list",
    "-a",
    "--all",
    "-r",
    "--remotes",
    "-v",
    "-vv",
    "--verbose",
];

fn is_safe_command(words: &[String]) -> bool {
    if let Some(script) = wrapped_script(words) {
        return is_known_safe(script);
    }
    let Some((program, args)) = program_and_args(words) else {
        return false;
    };
    if READ_ONLY_PROGRAMS.contains(&program) {
        return true;
    }
    match program {
        "env" | "hostname" => args.is_empty(),
        "date" => is_safe_date(&args),
        "file" => !has_short_flag(&args, &['C']) && !has_long_flag(&args, &["compile"]),
        "find" => !args.iter().any(|arg| FIND_UNSAFE_ACTIONS.contains(arg)),
        "git" => is_safe_git(&args),
        "rg" => {
            !has_short_flag(&args, &['z'])
                && !has_long_flag(&args, &["pre", "search-zip", "hostname-bin"])
        }
        "sed" => sed_print_files(&args).is_some(),
        "sort" => {
            !has_short_flag(&args, &['o']) && !has_long_flag(&args, &["output", "compress-program"])
        }
        "tree" => !has_short_flag(&args, &['o', 'R']) && !has_long_flag(&args, &["output"]),
        // A second operand is the file `uniq` writes to.
        "uniq" => operands(&args, value_flags(program)).len() <= 1,
        _ => false,
    }
}

/// Whether a cluster of short flags (`-uo`) holds any of `flags`.
fn has_short_flag(args: &[&str], flags: &[char]) -> bool {
    args.iter().any(|arg| {
        arg.strip_prefix('-')
            .is_some_and(|cluster| !cluster.starts_with('-') && cluster.contains(flags))
    })
}

/// Whether any argument is one of the long options `names` (given without `--`), also as
/// `--name=value` or abbreviated, since GNU getopt and git accept unambiguous prefixes.
fn has_long_flag(args: &[&str], names: &[&str]) -> bool {
    args.iter()
        .filter_map(|arg| arg.strip_prefix("--"))
        .any(|option| {
            let key = option.split_once('=').map_or(option, |(key, _)| key);
            !key.is_empty() && names.iter().any(|name| name.starts_with(key))
        })
}

fn is_safe_date(args: &[&str]) -> bool {
    if has_short_flag(args, &['s']) || has_long_flag(args, &["set"]) {
        return false;
    }
    // A bare operand (`date 0101120024`) sets the clock; only `+FORMAT` and flag values may
    // stand on their own.
    let mut is_value = false;
    args.iter().all(|arg| {
        let is_allowed = is_value || arg.starts_with(['-', '+']);
        is_value = matches!(
            *arg,
            "-d" | "--date" | "-r" | "--reference" | "-f" | "--file"
        );
        is_allowed
    })
}

fn is_safe_git(args: &[&str]) -> bool {
    match args.split_first() {
        Some((&"branch", rest)) => is_safe_git_branch(rest),
        Some((&("status" | "log" | "diff" | "show"), rest)) => {
            !has_long_flag(rest, &["output", "ext-diff"])
        }
        _ => false,
    }
}

fn is_safe_git_branch(args: &[&str]) -> bool {
    let is_listing = args.contains(&"--list");
    args.iter().all(|arg| {
        GIT_BRANCH_LISTING_FLAGS.contains(arg)
            // With `--list`, operands are patterns to filter by, not branches to create.
            || (is_listing && !arg.starts_with('-'))
    })
}

/// The files of `sed -n '<N>p' [file...]` or `sed -n '<N>,<M>p' [file...]`, the one `sed` we
/// know only prints.
fn sed_print_files<'s, 'a>(args: &'s [&'a str]) -> Option<&'s [&'a str]> {
    match args {
        ["-n", script, files @ ..]
            if is_line_range_print(script) && files.iter().all(|file| !file.starts_with('-')) =>
        {
            Some(files)
        }
        _ => None,
    }
}

fn is_line_range_print(script: &str) -> bool {
    let is_number = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    let Some(range) = script.strip_suffix('p') else {
        return false;
    };
    match range.split_once(',') {
        Some((start, end)) => is_number(start) && is_number(end),
        None => is_number(range),
    }
}

// Actions.

/// Programs that, reading a pipe, only reshape what an earlier command printed.
const PIPE_FORMATTERS: &[&str] = &["cut", "head", "nl", "sort", "tail", "uniq", "wc"];

/// Name tests that make a `find` a search rather than a listing.
const FIND_NAME_TESTS: &[&str] = &[
    "-name",
    "-iname",
    "-path",
    "-ipath",
    "-wholename",
    "-iwholename",
    "-regex",
    "-iregex",
];

fn is_pipe_formatter(words: &[String]) -> bool {
    let Some((program, args)) = program_and_args(words) else {
        return false;
    };
    match program {
        // `tr` only ever reads its input.
        "tr" => true,
        "sed" => sed_print_files(&args).is_some_and(<[&str]>::is_empty),
        _ => PIPE_FORMATTERS.contains(&program) && operands(&args, value_flags(program)).is_empty(),
    }
}

fn action(words: &[String]) -> CommandAction {
    let command = join(words);
    let Some((program, args)) = program_and_args(words) else {
        return CommandAction::Unknown { command };
    };
    let positional = operands(&args, value_flags(program));
    match program {
        "cat" | "head" | "less" | "nl" | "tail" => read_action(command, &positional),
        "sed" => match sed_print_files(&args) {
            Some(files) => read_action(command, files),
            None => CommandAction::Unknown { command },
        },
        "ls" | "tree" => CommandAction::ListFiles {
            command,
            path: first_owned(&positional),
        },
        "find" => find_action(command, &args),
        "rg" => rg_action(command, &args, &positional),
        "grep" => search_action(command, &args, &positional),
        "git" => match args.split_first() {
            Some((&"grep", rest)) => {
                search_action(command, rest, &operands(rest, value_flags("grep")))
            }
            _ => CommandAction::Unknown { command },
        },
        _ => CommandAction::Unknown { command },
    }
}

fn read_action(command: String, files: &[&str]) -> CommandAction {
    match files {
        [path] => CommandAction::Read {
            command,
            name: file_name(path),
            path: (*path).to_owned(),
        },
        _ => CommandAction::Unknown { command },
    }
}

fn find_action(command: String, args: &[&str]) -> CommandAction {
    // The starting point comes before the first test, option or parenthesis.
    let path = args
        .first()
        .copied()
        .filter(|arg| !arg.starts_with('-') && !matches!(*arg, "(" | "!"))
        .map(str::to_owned);
    let query = args.windows(2).find_map(|pair| match pair {
        [test, pattern] if FIND_NAME_TESTS.contains(test) => Some((*pattern).to_owned()),
        _ => None,
    });
    match query {
        Some(query) => CommandAction::Search {
            command,
            query: Some(query),
            path,
        },
        None => CommandAction::ListFiles { command, path },
    }
}

fn rg_action(command: String, args: &[&str], positional: &[&str]) -> CommandAction {
    if args.contains(&"--files") {
        CommandAction::ListFiles {
            command,
            path: first_owned(positional),
        }
    } else {
        search_action(command, args, positional)
    }
}

fn search_action(command: String, args: &[&str], positional: &[&str]) -> CommandAction {
    // With `-e PATTERN` every operand is a path; otherwise the first operand is the pattern.
    let explicit = args.windows(2).find_map(|pair| match pair {
        [flag, pattern] if matches!(*flag, "-e" | "--regexp") => Some(*pattern),
        _ => None,
    });
    let (query, paths) = match (explicit, positional.split_first()) {
        (Some(pattern), _) => (Some(pattern), positional),
        (None, Some((pattern, paths))) => (Some(*pattern), paths),
        (None, None) => (None, positional),
    };
    CommandAction::Search {
        command,
        query: query.map(str::to_owned),
        path: first_owned(paths),
    }
}

fn first_owned(words: &[&str]) -> Option<String> {
    words.first().copied().map(str::to_owned)
}

fn file_name(path: &str) -> String {
    Path::new(path).file_name().map_or_else(
        || path.to_owned(),
        |name| name.to_string_lossy().into_owned(),
    )
}

/// Re-quotes words into one command line.
fn join(words: &[String]) -> String {
    // Quoting only fails on a NUL byte, which no argument can hold anyway.
    shlex::try_join(words.iter().map(String::as_str)).unwrap_or_else(|_| words.join(" "))
}

// apply_patch.

fn is_apply_patch(program: &str) -> bool {
    matches!(program, "apply_patch" | "applypatch")
}

/// Splits a leading `cd <dir> &&` off `segments`, which must then hold exactly one more command.
fn after_cd(segments: &[Segment]) -> Option<(Option<String>, &[String])> {
    match segments {
        [command] => Some((None, command.words.as_slice())),
        [cd, command] if command.connector == Some(Connector::And) => match cd.words.as_slice() {
            [program, dir] if program == "cd" => {
                Some((Some(dir.clone()), command.words.as_slice()))
            }
            _ => None,
        },
        _ => None,
    }
}

/// `apply_patch <<'EOF'` (optionally after `cd <dir> &&`) with the patch as the heredoc's body.
///
/// The body is taken as written, even for an unquoted delimiter where bash would expand `$`:
/// the patch tool applies it, not bash.
fn heredoc_patch(line: &str) -> Option<PatchInvocation> {
    let (header, body) = line.trim_start().split_once('\n')?;
    let (command, delimiter) = header.split_once("<<")?;
    let delimiter = heredoc_delimiter(delimiter.trim())?;
    let segments = parse(command)?;
    let (workdir, words) = after_cd(&segments)?;
    if !matches!(words, [program] if is_apply_patch(program)) {
        return None;
    }
    let mut lines = body.split('\n');
    let mut patch = String::new();
    while let Some(text) = lines.next() {
        if text == delimiter {
            // Anything after the heredoc is another command, which the patch tool cannot run.
            let is_rest_blank = lines.all(|rest| rest.trim().is_empty());
            return is_rest_blank.then_some(PatchInvocation { patch, workdir });
        }
        patch.push_str(text);
        patch.push('\n');
    }
    None
}

/// The word that ends a heredoc, from what follows `<<`: `EOF`, `'EOF'` or `"EOF"`. The
/// tab-stripping `<<-` is not supported.
fn heredoc_delimiter(spec: &str) -> Option<&str> {
    let word = ['\'', '"']
        .into_iter()
        .find_map(|quote| spec.strip_prefix(quote)?.strip_suffix(quote))
        .unwrap_or(spec);
    let is_word = !word.is_empty()
        && !word.starts_with('-')
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    is_word.then_some(word)
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[allow(
        clippy::unnecessary_wraps,
        reason = "compared with what split_commands returns"
    )]
    fn commands(expected: &[&[&str]]) -> Option<Vec<Vec<String>>> {
        Some(
            expected
                .iter()
                .map(|command| command.iter().map(|word| (*word).to_owned()).collect())
                .collect(),
        )
    }

    #[test]
    fn split_commands_follows_quotes_escapes_and_operators() {
        let cases: &[(&str, &[&[&str]])] = &[
            ("ls -la && pwd", &[&["ls", "-la"], &["pwd"]]),
            (
                r#"echo 'a b' "c d" e\ f ''"#,
                &[&["echo", "a b", "c d", "e f", ""]],
            ),
            (
                r#"echo "a\"b" 'c\d' "e\f""#,
                &[&["echo", "a\"b", "c\\d", "e\\f"]],
            ),
            (
                "rg x | head -n 5; wc -l f || true",
                &[
                    &["rg", "x"],
                    &["head", "-n", "5"],
                    &["wc", "-l", "f"],
                    &["true"],
                ],
            ),
            ("ls&&pwd;echo hi", &[&["ls"], &["pwd"], &["echo", "hi"]]),
            ("ls\n\npwd\n", &[&["ls"], &["pwd"]]),
            ("ls &&\n  pwd", &[&["ls"], &["pwd"]]),
            ("ls;", &[&["ls"]]),
            ("echo a\\\nb", &[&["echo", "ab"]]),
            ("ls *.rs src/[ab]?", &[&["ls", "*.rs", "src/[ab]?"]]),
            ("ls # list it all", &[&["ls"]]),
            ("echo a#b", &[&["echo", "a#b"]]),
            ("echo 'it''s' \"x\"y", &[&["echo", "its", "xy"]]),
            ("echo '$HOME' \"<>\"", &[&["echo", "$HOME", "<>"]]),
            (
                r"find . -exec rm {} \;",
                &[&["find", ".", "-exec", "rm", "{}", ";"]],
            ),
            (
                "echo 'line one\nline two'",
                &[&["echo", "line one\nline two"]],
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(split_commands(line), commands(expected), "{line}");
        }
    }

    #[test]
    fn split_commands_refuses_shell_it_does_not_follow() {
        for line in [
            "",
            "   \n",
            "echo hi > f",
            "cat < f",
            "ls 2>&1",
            "ls &> out",
            "(ls)",
            "echo $(pwd)",
            "echo `pwd`",
            "echo $HOME",
            "echo \"$HOME\"",
            "echo \"`pwd`\"",
            "sleep 1 &",
            "ls |& cat",
            "cat <<EOF\nx\nEOF",
            "echo 'open",
            "echo \"open",
            "echo trailing\\",
            "ls &&",
            "ls |",
            "&& ls",
            "; ls",
            "ls | | wc",
            "ls ;; pwd",
            "echo {a,b}",
            "{ ls; }",
        ] {
            assert_eq!(split_commands(line), None, "{line:?}");
        }
    }

    #[test]
    fn read_only_lines_are_known_safe() {
        for line in [
            "ls",
            "ls -la src",
            "pwd",
            "cat Cargo.toml",
            "head -n 20 src/lib.rs",
            "tail -n 5 log.txt",
            "wc -l src/*.rs",
            "echo 'hello world'",
            "grep -rn TODO src",
            "rg -n 'fn main' crates",
            "rg --files",
            "find . -name '*.rs' -type f",
            "git status",
            "git log --oneline -5",
            "git diff HEAD~1 -- src",
            "git show HEAD:README.md",
            "git branch",
            "git branch --show-current",
            "git branch -a",
            "git branch -r -v",
            "git branch --list 'feat/*'",
            "sed -n 10p src/lib.rs",
            "sed -n '1,200p' src/lib.rs",
            "cat f | sed -n 1,5p",
            "nl -ba src/lib.rs",
            "sort names.txt",
            "sort -u names.txt | uniq -c",
            "uniq names.txt",
            "cut -d: -f1 /etc/passwd",
            "tr a-z A-Z",
            "stat Cargo.toml",
            "which cargo",
            "whoami",
            "true",
            "false",
            "date",
            "date +%Y-%m-%d",
            "date -d yesterday +%s",
            "file README.md",
            "du -sh .",
            "df -h",
            "tree -L 2",
            "basename a/b.txt",
            "dirname a/b.txt",
            "realpath .",
            "readlink -f x",
            "env",
            "printenv PATH",
            "id",
            "uname -a",
            "hostname",
        ] {
            assert!(is_known_safe(line), "{line}");
        }
    }

    #[test]
    fn safe_lines_stay_safe_when_joined_or_wrapped() {
        for line in [
            "cd src && rg foo",
            "ls && pwd; echo done || true",
            "ls\npwd",
            "ls -la # everything",
            "cat \"my file.txt\" | head -n 5",
            "bash -lc 'ls && pwd'",
            "bash -c 'git status'",
            "sh -c 'cat a | wc -l'",
            "zsh -lc \"git log -1\"",
            "/bin/bash -lc 'bash -lc \"ls\"'",
        ] {
            assert!(is_known_safe(line), "{line}");
        }
    }

    #[test]
    fn lines_that_may_write_or_run_programs_are_not_known_safe() {
        for line in [
            "",
            "rm -rf target",
            "ls; rm -rf /",
            "ls && rm x",
            "ls | xargs rm",
            "ls | tee out.txt",
            "echo hi > f",
            "echo hi >> f",
            "cat < f",
            "ls 2>&1",
            "echo $(rm x)",
            "echo `rm x`",
            "echo \"$HOME\"",
            "(ls)",
            "sleep 10 &",
            "cat <<EOF\nx\nEOF",
            "echo 'unterminated",
            "FOO=1 ls",
            "./ls",
            "less README.md",
            "python -c 'print(1)'",
            "bash script.sh",
            "bash -lc 'rm x'",
            "bash -lc 'ls' extra",
            "bash -lc 'ls > out'",
            "env rm -rf x",
            "hostname evil",
        ] {
            assert!(!is_known_safe(line), "{line:?}");
        }
    }

    #[test]
    fn known_programs_with_writing_flags_are_not_known_safe() {
        for line in [
            "find . -delete",
            "find . -name x -exec rm {} +",
            r"find . -execdir ls \;",
            r"find . -ok rm {} \;",
            "find . -fprint out",
            "git branch -D x",
            "git branch new-feature",
            "git branch -m old new",
            "git branch -l",
            "git checkout main",
            "git push",
            "git -C other status",
            "git -c core.pager=sh log",
            "git log --output=log.txt",
            "git diff --out log.txt",
            "git diff --ext-diff",
            "sort -o out names.txt",
            "sort -uo out names.txt",
            "sort --output=out names.txt",
            "sort --compress-program=sh names.txt",
            "rg --pre cat x",
            "rg --pre=cat x",
            "rg -z foo",
            "rg -uz foo",
            "rg --search-zip foo",
            "rg --hostname-bin evil foo",
            "sed -i s/a/b/ f",
            "sed s/a/b/ f",
            "sed -n '1p;w out' f",
            "sed -n 1p -i f",
            "sed -n '$p' f",
            "uniq in out",
            "tree -o out.txt",
            "tree -R",
            "file -C -m magic",
            "date -s 2020-01-01",
            "date --set=2020-01-01",
            "date 0101000024",
        ] {
            assert!(!is_known_safe(line), "{line}");
        }
    }

    fn read(command: &str, name: &str, path: &str) -> CommandAction {
        CommandAction::Read {
            command: command.to_owned(),
            name: name.to_owned(),
            path: path.to_owned(),
        }
    }

    fn list(command: &str, path: Option<&str>) -> CommandAction {
        CommandAction::ListFiles {
            command: command.to_owned(),
            path: path.map(str::to_owned),
        }
    }

    fn search(command: &str, query: Option<&str>, path: Option<&str>) -> CommandAction {
        CommandAction::Search {
            command: command.to_owned(),
            query: query.map(str::to_owned),
            path: path.map(str::to_owned),
        }
    }

    fn unknown(command: &str) -> CommandAction {
        CommandAction::Unknown {
            command: command.to_owned(),
        }
    }

    fn check(line: &str, expected: &[CommandAction]) {
        assert_eq!(command_actions(line), expected, "{line}");
    }

    #[test]
    fn reads_name_the_file() {
        check(
            "cat src/main.rs",
            &[read("cat src/main.rs", "main.rs", "src/main.rs")],
        );
        check(
            "head -n 50 README.md",
            &[read("head -n 50 README.md", "README.md", "README.md")],
        );
        check(
            "sed -n 5p src/lib.rs",
            &[read("sed -n 5p src/lib.rs", "lib.rs", "src/lib.rs")],
        );
        check(
            "nl -ba src/x.rs",
            &[read("nl -ba src/x.rs", "x.rs", "src/x.rs")],
        );
        check("cat a b", &[unknown("cat a b")]);
        check("head -n 5", &[unknown("head -n 5")]);
    }

    #[test]
    fn listings_and_searches_find_their_path_and_query() {
        check("ls", &[list("ls", None)]);
        check("ls -la src", &[list("ls -la src", Some("src"))]);
        check("tree -L 2 docs", &[list("tree -L 2 docs", Some("docs"))]);
        check("find . -type f", &[list("find . -type f", Some("."))]);
        check(
            "find src -name '*.rs'",
            &[search("find src -name '*.rs'", Some("*.rs"), Some("src"))],
        );
        check(
            "rg --files -g '*.md' docs",
            &[list("rg --files -g '*.md' docs", Some("docs"))],
        );
        check(
            "rg -n TODO src/lib",
            &[search("rg -n TODO src/lib", Some("TODO"), Some("src/lib"))],
        );
        check(
            "rg 'foo bar' src",
            &[search("rg 'foo bar' src", Some("foo bar"), Some("src"))],
        );
        check(
            "grep -rn -e foo .",
            &[search("grep -rn -e foo .", Some("foo"), Some("."))],
        );
        check(
            "git grep parse -- crates",
            &[search(
                "git grep parse -- crates",
                Some("parse"),
                Some("crates"),
            )],
        );
        check("rg", &[search("rg", None, None)]);
    }

    #[test]
    fn pipes_cd_and_wrappers_keep_the_meaningful_actions() {
        check("cat f | head -n 5", &[read("cat f", "f", "f")]);
        check(
            "cat f | tr a-z A-Z | sort | uniq -c | sed -n 1,3p",
            &[read("cat f", "f", "f")],
        );
        check("rg foo | wc -l", &[search("rg foo", Some("foo"), None)]);
        check("cd src && rg foo", &[search("rg foo", Some("foo"), None)]);
        check(
            "ls | grep foo",
            &[list("ls", None), search("grep foo", Some("foo"), None)],
        );
        check(
            "bash -lc 'cd src && cat lib.rs && ls'",
            &[read("cat lib.rs", "lib.rs", "lib.rs"), list("ls", None)],
        );
        check("sort data.txt | uniq", &[unknown("sort data.txt")]);
        check("cd src", &[unknown("cd src")]);
    }

    #[test]
    fn other_commands_are_unknown() {
        check("cargo test", &[unknown("cargo test")]);
        check(
            "cargo test -p 'tern core'",
            &[unknown("cargo test -p 'tern core'")],
        );
        check("echo hi > f", &[unknown("echo hi > f")]);
        check(
            "ls && cargo build",
            &[list("ls", None), unknown("cargo build")],
        );
    }

    const PATCH: &str = "*** Begin Patch\n*** Add File: hello.txt\n+hi\n*** End Patch\n";

    #[allow(
        clippy::unnecessary_wraps,
        reason = "compared with what parse_apply_patch returns"
    )]
    fn invocation(workdir: Option<&str>) -> Option<PatchInvocation> {
        Some(PatchInvocation {
            patch: PATCH.to_owned(),
            workdir: workdir.map(str::to_owned),
        })
    }

    #[test]
    fn apply_patch_heredocs_and_arguments_are_recognised() {
        for (line, workdir) in [
            (format!("apply_patch <<'EOF'\n{PATCH}EOF\n"), None),
            (format!("apply_patch <<EOF\n{PATCH}EOF"), None),
            (format!("apply_patch << \"PATCH\"\n{PATCH}PATCH\n"), None),
            (
                format!("applypatch <<'END_PATCH'\n{PATCH}END_PATCH\n\n"),
                None,
            ),
            (
                format!("cd crates/core && apply_patch <<'EOF'\n{PATCH}EOF\n"),
                Some("crates/core"),
            ),
            (
                format!("cd 'my dir' && apply_patch <<'EOF'\n{PATCH}EOF"),
                Some("my dir"),
            ),
            (format!("apply_patch '{PATCH}'"), None),
            (format!("cd src && apply_patch \"{PATCH}\""), Some("src")),
            (
                format!("bash -lc \"apply_patch <<'EOF'\n{PATCH}EOF\n\""),
                None,
            ),
        ] {
            assert_eq!(parse_apply_patch(&line), invocation(workdir), "{line}");
        }
    }

    #[test]
    fn apply_patch_heredoc_bodies_are_kept_as_written() {
        let body = "*** Begin Patch\n*** Add File: a.sh\n+echo $HOME `pwd`\n\n*** End Patch\n";
        let line = format!("apply_patch <<EOF\n{body}EOF\n");
        assert_eq!(
            parse_apply_patch(&line),
            Some(PatchInvocation {
                patch: body.to_owned(),
                workdir: None,
            })
        );
    }

    #[test]
    fn other_lines_are_not_apply_patch() {
        for line in [
            format!("apply_patch <<'EOF'\n{PATCH}EOF\necho done\n"),
            format!("apply_patch <<'EOF' && ls\n{PATCH}EOF\n"),
            format!("apply_patch <<'EOF'\n{PATCH}"),
            format!("apply_patch <<-EOF\n{PATCH}EOF\n"),
            format!("cd a; apply_patch <<'EOF'\n{PATCH}EOF\n"),
            format!("echo x && apply_patch <<'EOF'\n{PATCH}EOF\n"),
            format!("cat <<'EOF'\n{PATCH}EOF\n"),
            format!("apply_patch '{PATCH}' && ls"),
            "apply_patch".to_owned(),
            "ls -la".to_owned(),
        ] {
            assert_eq!(parse_apply_patch(&line), None, "{line}");
        }
    }
}
