//! Tells the browser tests whether a ChromeDriver is installed, so that without one they are
//! reported as ignored rather than as passing.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(chromium)");
    println!("cargo::rerun-if-env-changed=BANTIN_CHROMEDRIVER");
    let path =
        std::env::var("BANTIN_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".to_owned());
    println!("cargo::rerun-if-changed={path}");
    if std::path::Path::new(&path).exists() {
        println!("cargo::rustc-cfg=chromium");
    }
}
