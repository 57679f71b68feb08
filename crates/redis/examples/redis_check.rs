//! Polls one instance twice (rates need two polls) and prints its verdicts, then the state as
//! snapshot JSON: `cargo run --example redis_check -- ADDRESS [USER PASSWORD_VAR]`.

use opsdeck_redis::analysis::instance_verdicts;
use opsdeck_redis::config::{InstanceConfig, RedisConfig};
use opsdeck_redis::model::InstanceState;
use opsdeck_redis::source::poll::{InstanceSource, unix_now};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut text = format!("name = 'check'\naddress = {:?}\n", args.first().expect("ADDRESS"));
    if let [_, user, var] = args.as_slice() {
        text.push_str(&format!("user = {user:?}\npassword_env = {var:?}\n"));
    }
    let mut inst: InstanceConfig = toml::from_str(&text).expect("instance");
    inst.celery_discover = true;
    inst.resque_namespaces = vec!["resque".into()];
    inst.sidekiq_namespaces = vec![String::new()];
    let cfg = RedisConfig {
        instances: vec![inst.clone()],
        ..RedisConfig::default()
    };
    let mut src = InstanceSource::new(&inst, &cfg);
    let mut st = InstanceState::new(&inst.name, &inst.address);
    for _ in 0..2 {
        let started = std::time::Instant::now();
        st.apply(src.poll().await);
        eprintln!("poll: {:.1} ms", started.elapsed().as_secs_f64() * 1e3);
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    for v in instance_verdicts(&st, &inst, &cfg, unix_now()) {
        println!("{:?} {:?}: {}", v.severity, v.row, v.message);
    }
    println!("{}", serde_json::to_string_pretty(&st).unwrap());
}
