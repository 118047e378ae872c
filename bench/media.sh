#!/usr/bin/env bash
# Media library benchmark: intake time and peak memory for a 24-megapixel JPEG (made by the
# program), variants per second, and the image bytes a 390 px-wide phone downloads for the seed
# article before (the camera files) and after (the srcset variant Chromium's rule picks).
# Release build of the bantin-media example; results recorded in bench/MEDIA-RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p bantin-media --example bench
/usr/bin/time -v target/release/examples/bench 2> >(grep -E "Maximum resident|Elapsed" >&2)
