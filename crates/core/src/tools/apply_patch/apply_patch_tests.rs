use std::path::Path;

use pretty_assertions::assert_eq;
use proptest::prelude::*;

use super::*;

/// A temporary folder with these files.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, contents) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    dir
}

/// Every file under `dir`, relative path → contents.
fn contents(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap().display().to_string();
                out.push((relative, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn owned(files: &[(&str, &str)]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|(p, c)| ((*p).to_owned(), (*c).to_owned()))
        .collect()
}

#[test]
fn a_multi_file_patch_adds_updates_moves_and_deletes() {
    let dir = tree(&[
        ("src/lib.rs", "fn a() {}\nfn b() {\n    old();\n}\n"),
        ("old.txt", "bye\n"),
        ("move/me.txt", "one\ntwo\n"),
    ]);
    let patch = "\
*** Begin Patch
*** Add File: docs/new.md
+# Title
+text
*** Update File: src/lib.rs
@@ fn b() {
-    old();
+    new();
*** Delete File: old.txt
*** Update File: move/me.txt
*** Move to: moved/you.txt
 one
-two
+three
*** End Patch
";
    let changes = apply(patch, dir.path()).unwrap();
    assert_eq!(
        contents(dir.path()),
        owned(&[
            ("docs/new.md", "# Title\ntext\n"),
            ("moved/you.txt", "one\nthree\n"),
            ("src/lib.rs", "fn a() {}\nfn b() {\n    new();\n}\n"),
        ])
    );
    let kinds: Vec<&ChangeKind> = changes.iter().map(|c| &c.kind).collect();
    assert_eq!(
        kinds,
        [
            &ChangeKind::Add,
            &ChangeKind::Update { move_to: None },
            &ChangeKind::Delete,
            &ChangeKind::Update {
                move_to: Some(dir.path().join("moved/you.txt"))
            },
        ]
    );
    assert!(
        changes[1].diff.contains("-    old();\n+    new();\n"),
        "{}",
        changes[1].diff
    );
}

#[test]
fn a_context_mismatch_changes_no_file() {
    let files = [("a.txt", "alpha\n"), ("b.txt", "beta\n")];
    let dir = tree(&files);
    let patch = "\
*** Begin Patch
*** Update File: a.txt
-alpha
+ALPHA
*** Update File: b.txt
-not there
+x
*** End Patch";
    let error = apply(patch, dir.path()).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("cannot find the lines to change"),
        "{error}"
    );
    assert_eq!(contents(dir.path()), owned(&files));
}

#[test]
fn crlf_files_keep_their_line_endings() {
    let dir = tree(&[("w.txt", "one\r\ntwo\r\nthree\r\n")]);
    let patch =
        "*** Begin Patch\r\n*** Update File: w.txt\r\n one\r\n-two\r\n+2\r\n*** End Patch\r\n";
    apply(patch, dir.path()).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("w.txt")).unwrap(),
        "one\r\n2\r\nthree\r\n"
    );
}

#[test]
fn end_of_file_and_whitespace_tolerant_matching() {
    let dir = tree(&[("f.txt", "x\nend\nx\nend  \n")]);
    let patch = "\
*** Begin Patch
*** Update File: f.txt
@@
-end
+last
*** End of File
*** End Patch";
    apply(patch, dir.path()).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("f.txt")).unwrap(),
        "x\nend\nx\nlast\n"
    );
}

#[test]
fn adding_an_existing_file_or_deleting_a_missing_one_fails() {
    let dir = tree(&[("here.txt", "1\n")]);
    let add = "*** Begin Patch\n*** Add File: here.txt\n+2\n*** End Patch";
    assert!(
        apply(add, dir.path())
            .unwrap_err()
            .to_string()
            .contains("exists")
    );
    let delete = "*** Begin Patch\n*** Delete File: gone.txt\n*** End Patch";
    assert!(
        apply(delete, dir.path())
            .unwrap_err()
            .to_string()
            .contains("does not exist")
    );
    assert_eq!(contents(dir.path()), owned(&[("here.txt", "1\n")]));
}

#[test]
fn malformed_patches_name_the_line() {
    let check = |text: &str, expected: &str| {
        assert_eq!(parse(text).unwrap_err().to_string(), expected, "{text}");
    };
    check(
        "hello",
        "invalid patch at line 1: a patch starts with `*** Begin Patch`",
    );
    check(
        "*** Begin Patch\n*** Add File: a\n+x",
        "invalid patch at line 3: a patch ends with `*** End Patch`",
    );
    check(
        "*** Begin Patch\n*** Add File: a\nx\n*** End Patch",
        "invalid patch at line 3: lines of an added file start with `+`",
    );
    check(
        "*** Begin Patch\n*** Frobnicate: a\n*** End Patch",
        "invalid patch at line 2: expected `*** Add File:`, `*** Delete File:` or `*** Update File:`",
    );
    check(
        "*** Begin Patch\n*** Update File: a\n*** End Patch",
        "invalid patch at line 3: an updated file needs at least one change",
    );
    check(
        "*** Begin Patch\n*** Add File:   \n+x\n*** End Patch",
        "invalid patch at line 2: the file path is empty",
    );
}

/// Lines that look like patch syntax, to make random patches that get deep into the parser.
fn patch_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*** Begin Patch".to_owned()),
        Just("*** End Patch".to_owned()),
        Just("*** End of File".to_owned()),
        "[a-z]{0,3}".prop_map(|p| format!("*** Add File: {p}")),
        "[a-z]{0,3}".prop_map(|p| format!("*** Delete File: {p}")),
        "[a-z]{0,3}".prop_map(|p| format!("*** Update File: {p}")),
        "[a-z]{0,3}".prop_map(|p| format!("*** Move to: {p}")),
        "[ -~]{0,6}".prop_map(|t| format!("@@{t}")),
        "[ +\\-][ -~]{0,6}",
        "[ -~\r\t]{0,8}",
    ]
}

proptest! {
    #[test]
    fn parsing_never_panics_on_arbitrary_text(text in "\\PC{0,200}") {
        let _ = parse(&text);
    }

    #[test]
    fn parsing_and_applying_never_panic_on_patch_shaped_input(
        lines in prop::collection::vec(patch_line(), 0..24),
        file in "[a-c\n ]{0,40}",
    ) {
        let _ = parse(&lines.join("\n"));
        let mut framed = vec!["*** Begin Patch".to_owned()];
        framed.extend(lines);
        framed.push("*** End Patch".to_owned());
        if let Ok(patch) = parse(&framed.join("\n")) {
            for operation in &patch.operations {
                if let Operation::Update { chunks, .. } = operation {
                    let _ = apply_chunks(&file, chunks);
                }
            }
        }
    }
}
