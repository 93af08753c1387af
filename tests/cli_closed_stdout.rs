//! A reader that stops early (`isac ... | head`) closes the binary's standard output: the
//! command must stop quietly with exit 0, not panic on the failed write.

use std::process::{Command, Stdio};

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    for args in [&["encoders"][..], &["encoders", "--json"][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_isac"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the read end before the command writes its table.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {:?} {stderr}", out.status);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
