//! The `carecall` binary: command line → config → telemetry → runtime. No logic here.

fn main() {
    println!("carecall {}", env!("CARGO_PKG_VERSION"));
}
