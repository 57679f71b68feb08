use clap::Parser;

fn main() {
    one_malloc_arena();
    let cli = opsdeck::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("opsdeck: cannot start the async runtime: {e}");
            std::process::exit(2);
        }
    };
    let code = runtime.block_on(opsdeck::cli::main(cli));
    // Pollers may be mid-request: do not wait for them.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    if let Some(sig) = opsdeck::runtime::exit_signal() {
        opsdeck::runtime::terminal::raise_default(sig);
    }
    std::process::exit(code);
}

/// glibc gives each thread that allocates an arena of its own, and memory freed into one is not
/// reused by another: at fleet scale (polls built on the runtime's workers, folded on the UI
/// thread, freed on the drop thread) that cost 25 MB of RSS on a 50 MB heap. The console's
/// threads allocate little at once, so one arena's lock is cheap. A fixed mmap threshold keeps
/// glibc from raising it after each large free, so a large answer's buffers (20,000 shard rows, a
/// table's rows) go back to the system when freed instead of leaving holes: 10 MB less at fleet
/// scale. Set before any thread starts; `MALLOC_ARENA_MAX` in the environment still wins.
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; no thread has started yet.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1);
            libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        }
    }
}
