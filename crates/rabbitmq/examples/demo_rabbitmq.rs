//! The demo's management API on loopback, for curl or a browser-less look by hand:
//! `cargo run --example demo_rabbitmq`, then `curl -u demo:demo $URL/api/queues`.

use opsdeck_rabbitmq::demo::DemoServer;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let server = DemoServer::start().await?;
    println!("{}", server.url());
    tokio::signal::ctrl_c().await
}
