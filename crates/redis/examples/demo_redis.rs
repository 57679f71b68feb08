//! Runs the demo's Redis on loopback until killed, for a look with redis-cli:
//! `cargo run --example demo_redis`, then `redis-cli -p PORT info`.

use opsdeck_redis::demo::DemoRedis;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let demo = DemoRedis::start().await?;
    println!("{}", demo.instance().address);
    std::future::pending::<()>().await;
    Ok(())
}
