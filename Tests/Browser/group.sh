# Sourced by run.sh: stopping the tests' process group and removing their
# scratch folder when run.sh ends, however it ends.

# Needs $tests (the group's leader) and $scratch. Nothing here may fail
# under `set -e`: a group whose processes have all ended, the usual case
# after a clean run, makes kill and wait fail, and a failing command in an
# EXIT trap would end the script with status 1 after every test passed.
stop_tests() {
    kill -TERM -- "-$tests" 2>/dev/null || true
    wait "$tests" 2>/dev/null || true
    rm -rf "$scratch"
}
