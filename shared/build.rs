//! Compiles the shipped list of common passwords into a sorted array of 32-bit FNV-1a
//! hashes (little-endian), so that the binaries carry 4 bytes an entry and nothing is
//! built at start-up.

fn fnv1a32(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ b as u32).wrapping_mul(0x0100_0193))
}

fn main() {
    let source = "data/common-passwords.txt";
    println!("cargo:rerun-if-changed={source}");
    let list = std::fs::read_to_string(source).expect("data/common-passwords.txt");
    let mut hashes: Vec<u32> =
        list.lines().map(str::trim).filter(|l| !l.is_empty()).map(|l| fnv1a32(&l.to_lowercase())).collect();
    hashes.sort_unstable();
    hashes.dedup();
    let bytes: Vec<u8> = hashes.iter().flat_map(|h| h.to_le_bytes()).collect();
    let out = std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("common-passwords.fnv32");
    std::fs::write(out, bytes).expect("write the hashed list");
}
