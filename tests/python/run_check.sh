#!/bin/sh
# Writes a sample result file with write_sample_results and checks it with check_results.py
# under /usr/bin/python3 (the interpreter that has h5py; `python3` on PATH may not).
#
#   run_check.sh WRITER CHECKER OUT.h5 WRITER_FLAG EXPECT [CHECKER ARGS...]
#     WRITER_FLAG  "-" (none) or one of write_sample_results' flags (--inconsistent, --no-eval, --pbt)
#     EXPECT       "ok": the check must pass; any other text: the check must fail and print it
# Exits 77 (ctest: skipped) when /usr/bin/python3 has no h5py.
set -u
writer=$1 checker=$2 out=$3 flag=$4 expect=$5
shift 5
python=/usr/bin/python3

if ! "$python" -c "import h5py" 2>/dev/null; then
  echo "SKIP: $python cannot import h5py"
  exit 77
fi
rm -f "$out"
if [ "$flag" = "-" ]; then "$writer" "$out"; else "$writer" "$out" "$flag"; fi || { echo "FAIL: $writer exited $?"; exit 1; }

output=$("$python" "$checker" "$out" "$@" 2>&1)
rc=$?
echo "$output"
if [ "$expect" = "ok" ]; then
  [ $rc -eq 0 ] || { echo "FAIL: check_results.py exited $rc on a good file"; exit 1; }
else
  [ $rc -eq 1 ] || { echo "FAIL: check_results.py exited $rc, expected 1 (a found problem)"; exit 1; }
  case "$output" in
    *"$expect"*) ;;
    *) echo "FAIL: the output does not say '$expect'"; exit 1 ;;
  esac
fi
rm -f "$out"
exit 0
