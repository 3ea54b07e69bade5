"""The Python stdlib baseline of bench/decode_bench.sh: each CloudTrail log file given (gzip)
is inflated and parsed, and every record written as one line of compact JSON."""
import gzip
import json
import sys

out = sys.stdout.write
for path in sys.argv[1:]:
    with gzip.open(path) as f:
        for record in json.load(f)["Records"]:
            out(json.dumps(record, separators=(",", ":")) + "\n")
