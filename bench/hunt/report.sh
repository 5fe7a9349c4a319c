#!/usr/bin/env bash
# Writes bench/hunt/RESULTS.md (to stdout) from what bench/hunt/run.sh measured; run.sh calls it
# with its settings in the environment (bin, data, size, runs, sample_size, attack_percent, cores,
# have_python_tool).
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${data:?run bench/hunt/run.sh}"
mixed="$data/mixed/mixed.log"
clean="$data/clean/mixed.log"
bytes_clean=$(stat -c %s "$clean")
bytes_mixed=$(stat -c %s "$mixed")
bytes_sample=$(stat -c %s "$sample")
labels="$data/mixed/mixed.labels.jsonl"
score() { python3 bench/hunt/score.py "$labels" "$@"; }

mean() { python3 -c "import json,sys; d=json.load(open('$1')); print([r['mean'] for r in d['results'] if r['command']==sys.argv[1]][0])" "$2"; }
cpu() { python3 -c "import json,sys; d=json.load(open('$1')); r=[r for r in d['results'] if r['command']==sys.argv[1]][0]; print(r['user']+r['system'])" "$2"; }
gbps() { python3 -c "print(f'{$1/$2/1e9:.2f}')"; }

{
    echo "# vulnshare hunt benchmark"
    echo
    echo "Reproduce: \`bench/hunt/run.sh $size\` (RUNS=$runs SAMPLE=$sample_size ATTACK_PERCENT=$attack_percent)."
    echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem/{print $2}') GB RAM,"
    echo "load average ${load_before:-?} when the runs started (other work shared the machine); logs in the page cache; output to /dev/null. $("$bin" --version), $(rg --version | head -1), $(grep --version | head -1), hyperfine $(hyperfine --version | cut -d' ' -f2)."
    echo
    echo "Logs: clean $(numfmt --to=iec "$bytes_clean") (access, JSON and syslog lines, no lookups), mixed $(numfmt --to=iec "$bytes_mixed") ($attack_percent% attack lines of every obfuscation family, $(python3 -c "print($attack_percent/4)")% benign look-alikes such as \`\${server.port}\`)."
    echo
    echo "## Throughput"
    echo
    echo "Wall-clock GB/s, and GB per CPU-second (user + system time over all threads: throughput per"
    echo "core, less sensitive to other load on the machine)."
    echo
    echo "| command | clean GB/s | clean GB per CPU-s | mixed GB/s | mixed GB per CPU-s |"
    echo "| --- | ---: | ---: | ---: | ---: |"
    for name in "vulnshare hunt ($cores threads)" "vulnshare hunt --threads 1" "rg -c -F '\${'" "rg -j1 -c -F '\${'" "rg -c -P -i (Roth regex)" "grep -c -F '\${'"; do
        c=$(mean "$data/clean.json" "$name"); m=$(mean "$data/mixed.json" "$name")
        cc=$(cpu "$data/clean.json" "$name"); mc=$(cpu "$data/mixed.json" "$name")
        echo "| \`$name\` | $(gbps "$bytes_clean" "$c") | $(gbps "$bytes_clean" "$cc") | $(gbps "$bytes_mixed" "$m") | $(gbps "$bytes_mixed" "$mc") |"
    done
    echo
    echo "Note: \`rg\` and \`grep\` run with \`-c\`, and grep writes to a file: GNU grep writing to /dev/null"
    echo "stops at the first match."
    echo "\`rg -F '\${'\` and \`grep -F\` only find a literal \`\${\` (no decoding, no classification);"
    echo "\`vulnshare hunt\` also searches every encoding of \`\$\` and evaluates each candidate line."
    echo
    echo "### Clean log (hyperfine)"
    echo
    cat "$data/clean.json.md"
    echo
    echo "### Mixed log (hyperfine)"
    echo
    cat "$data/mixed.json.md"
    echo
    if [[ $have_python_tool -eq 1 ]]; then
        v=$(mean "$data/sample-vulnshare.json" "vulnshare hunt"); p=$(mean "$data/sample.json" "jndi-deobfuscate")
        vc=$(cpu "$data/sample-vulnshare.json" "vulnshare hunt"); pc=$(cpu "$data/sample.json" "jndi-deobfuscate")
        if [[ $sample == "$data/mixed/mixed.log" || $sample_size == full ]]; then what="the whole mixed log"; else what="a $(numfmt --to=iec "$bytes_sample") sample of the mixed log"; fi
        echo "### PyPI jndi-deobfuscate on $what"
        echo
        echo "| command | wall s | CPU s (user + system) | GB/s | GB per CPU-s |"
        echo "| --- | ---: | ---: | ---: | ---: |"
        echo "| \`vulnshare hunt\` (mean of $runs) | $(python3 -c "print(f'{$v:.3f}')") | $(python3 -c "print(f'{$vc:.3f}')") | $(gbps "$bytes_sample" "$v") | $(gbps "$bytes_sample" "$vc") |"
        echo "| \`jndi-deobfuscate\` (one run) | $(python3 -c "print(f'{$p:.3f}')") | $(python3 -c "print(f'{$pc:.3f}')") | $(gbps "$bytes_sample" "$p") | $(gbps "$bytes_sample" "$pc") |"
        echo
        echo "vulnshare hunt is **$(python3 -c "print(f'{$p/$v:.0f}')")x** faster in wall-clock time and **$(python3 -c "print(f'{$pc/$vc:.0f}')")x** per CPU-second."
        echo "jndi-deobfuscate printed $(grep -ci jndi "$data/jndi-deobfuscate.out" || true) decoded strings for $(python3 -c "import json; print(sum(1 for l in open('$labels') if json.loads(l)['attack'] and json.loads(l)['line_number'] <= $(wc -l < "$sample")))") attack lines in that input (it prints no line numbers, so no per-family recall)."
        echo
    fi
    echo "## Recall and false positives on the mixed log"
    echo
    score "$data/vulnshare.jsonl" --name "vulnshare hunt (class and callback host must match)"
    echo
    score "$data/rg-F.lines" --format lines --name "rg -F '\${' (any match on the line counts)"
    echo
    score "$data/rg-P.lines" --format lines --name "rg -P -i Roth regex (any match on the line counts)"
}
