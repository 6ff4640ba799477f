fn main() {
    napi_build::setup();
    // Views of box memory made through V8's embedder API on Node (src/v8view.cc, used by
    // src/v8view.rs); elsewhere the addon makes them through Node-API only.
    println!("cargo:rerun-if-changed=src/v8view.cc");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        cc::Build::new()
            .cpp(true)
            .cpp_link_stdlib(None)
            .std("c++17")
            .flag("-fno-exceptions")
            .flag("-fno-rtti")
            .warnings(true)
            .file("src/v8view.cc")
            .compile("warden_v8view");
    }
}
