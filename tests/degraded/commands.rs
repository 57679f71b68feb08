//! A command that floods its output: what it prints is read to the end (it never blocks on a full
//! pipe) but only kept up to a cap, and the cut is said.

use opsdeck_core::exec::output::STDOUT_CAP;
use opsdeck_core::exec::run_local;
use std::time::Duration;

#[tokio::test]
async fn a_flood_of_output_is_kept_only_up_to_the_cap() {
    // 64 MiB on stdout, then a word on stderr once it was all taken.
    let out = run_local("head -c 67108864 /dev/zero; echo finished >&2", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(out.status, Some(0));
    assert_eq!(out.stdout.len(), STDOUT_CAP, "stdout kept up to the cap");
    assert!(
        out.stderr.starts_with("finished\n"),
        "the command ran to its end: {:?}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("opsdeck: stdout cut at 16 MiB (50331648 more bytes not kept)"),
        "{:?}",
        out.stderr
    );
}
