#!/usr/bin/env bash
# examples/ci/github-actions.yml and examples/ci/gitlab-ci.yml: their shell
# steps, extracted with python3-yaml, pass shellcheck, and they work: run
# here against a file:// remote (every step but the one that builds mlpack,
# with the secrets as environment variables), in a fresh workspace, HOME and
# config each time, like a fresh CI runner:
#   1. no production yet: the candidate (C=1.0) ships and becomes production
#   2. a worse candidate (C=0.01): the job fails with exit 6 at the gate,
#      pushes nothing and leaves production as it was
#   3. a better candidate (C=10): pulls production, passes, moves it
#   4. the signing key missing: the job fails before anything is pushed
# What reaches the remote is signed with the release key from the secrets.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

examples="$MLPACK_TESTS_DIR/../examples"
github="$examples/ci/github-actions.yml"
gitlab="$examples/ci/gitlab-ci.yml"
expect_file "$github"
expect_file "$gitlab"
command -v shellcheck >/dev/null || fail "shellcheck is not installed (scripts/install-deps.sh --test)"
"$PY" -c 'import yaml' 2>/dev/null || fail "python3-yaml is not installed (scripts/install-deps.sh --test)"

# The runner: extracts a job's shell steps, and runs them the way the CI
# system would, with its expressions and variables filled in from a context.
cat >"$TMP/ci_job.py" <<'EOF'
"""ci_job.py extract|run github|gitlab FILE DIR [CONTEXT.json]

extract: writes DIR/NN.sh, one bash script per shell step (GitHub: each
  `run:`, with ${{ }} replaced by ${GHA_EXPR}; GitLab: before_script then
  script, as one job), for shellcheck.
run: runs the job in DIR (the workspace) with CONTEXT's values, skipping
  `uses:` steps and the step that installs mlpack; prints each step's name
  to stderr and "FAILED-STEP: NAME" for the one that fails; exits with its
  exit code.
"""
import json
import os
import re
import subprocess
import sys

import yaml

INSTALL_STEP = "Install mlpack"
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def die(message):
    sys.exit(f"ci_job.py: {message}")


def github_job(path):
    doc = yaml.safe_load(open(path))
    jobs = doc.get("jobs") or {}
    if len(jobs) != 1:
        die(f"{path}: expected one job, found {len(jobs)}")
    job = next(iter(jobs.values()))
    shell = ((job.get("defaults") or {}).get("run") or {}).get("shell")
    if shell != "bash":
        die(f"{path}: the job's default shell is {shell!r}, expected bash")
    steps = job.get("steps") or []
    names = [s.get("name") for s in steps]
    if names.count(INSTALL_STEP) != 1:
        die(f"{path}: expected one step named {INSTALL_STEP!r}, found {names}")
    return doc, job, steps


def github_eval(text, ctx):
    def value(m):
        expr = m.group(1)
        fallback = None
        alt = re.fullmatch(r"(.+?)\s*\|\|\s*'([^']*)'", expr)
        if alt:
            expr, fallback = alt.group(1), alt.group(2)
        ref = re.fullmatch(r"(secrets|vars|github|inputs|runner)\.([A-Za-z_][A-Za-z0-9_]*)", expr)
        if not ref:
            die(f"an expression this runner does not know: ${{{{ {m.group(1)} }}}}")
        v = str(ctx.get(ref.group(1), {}).get(ref.group(2), ""))
        return v if v or fallback is None else fallback
    return EXPR.sub(value, str(text))


def gitlab_job(path):
    doc = yaml.safe_load(open(path))
    jobs = {k: v for k, v in doc.items()
            if isinstance(v, dict) and "script" in v and not k.startswith(".")}
    if len(jobs) != 1:
        die(f"{path}: expected one job, found {sorted(jobs)}")
    job = next(iter(jobs.values()))
    for part in ("before_script", "script"):
        for entry in job.get(part) or []:
            if not isinstance(entry, str):
                # "- echo a: b" is a mapping in YAML, not a command.
                die(f"{path}: a {part} entry is not a string (quote it): {entry!r}")
    return doc, job


def gitlab_expand(text, env):
    def value(m):
        name = m.group(1) or m.group(2)
        if name not in env:
            die(f"the variable ${name} is not defined")
        return env[name]
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", value, str(text))


def lines(entries):
    if isinstance(entries, str):
        entries = [entries]
    return "\n".join(str(e).rstrip("\n") for e in entries or [])


def extract(kind, path, out):
    os.makedirs(out, exist_ok=True)
    if kind == "github":
        _, _, steps = github_job(path)
        n = 0
        for step in steps:
            if "run" in step:
                n += 1
                body = EXPR.sub("${GHA_EXPR}", step["run"])
                with open(os.path.join(out, f"{n:02d}.sh"), "w") as f:
                    f.write(f"#!/usr/bin/env bash\n# step: {step.get('name')}\n"
                            f"export GHA_EXPR=placeholder\n{body}\n")
    else:
        _, job = gitlab_job(path)
        with open(os.path.join(out, "01.sh"), "w") as f:
            f.write("#!/usr/bin/env bash\nset -eo pipefail\n# before_script\n"
                    f"{lines(job.get('before_script'))}\n# script\n{lines(job['script'])}\n")


def run_script(body, env, cwd):
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", body],
                          env=env, cwd=cwd).returncode


def run(kind, path, workspace, ctx):
    env = dict(os.environ)
    if kind == "github":
        doc, job, steps = github_job(path)
        env.update({k: str(v) for k, v in ctx.get("github_env", {}).items()})
        for level in (doc.get("env") or {}, job.get("env") or {}):
            env.update({k: github_eval(v, ctx) for k, v in level.items()})
        for step in steps:
            name = step.get("name") or step.get("uses")
            if "uses" in step or name == INSTALL_STEP:
                print(f"-- skipped: {name}", file=sys.stderr, flush=True)
                continue
            if "${{" in step["run"]:
                die(f"step {name!r} has ${{{{ }}}} in its script; pass values through env:")
            step_env = dict(env)
            step_env.update({k: github_eval(v, ctx) for k, v in (step.get("env") or {}).items()})
            print(f"-- step: {name}", file=sys.stderr, flush=True)
            rc = run_script(step["run"], step_env, workspace)
            if rc != 0:
                print(f"FAILED-STEP: {name}", file=sys.stderr, flush=True)
                return rc
        return 0
    doc, job = gitlab_job(path)
    env.update({k: str(v) for k, v in ctx.get("predefined", {}).items()})
    for level in (doc.get("variables") or {}, job.get("variables") or {}):
        for k, v in level.items():
            env[k] = gitlab_expand(v, env)
    # Project settings, then pipeline variables, override the file's.
    env.update({k: str(v) for k, v in ctx.get("settings", {}).items()})
    env.update({k: str(v) for k, v in ctx.get("pipeline", {}).items()})
    print("-- skipped: before_script (installs mlpack)", file=sys.stderr, flush=True)
    print("-- script", file=sys.stderr, flush=True)
    rc = run_script(lines(job["script"]), env, workspace)
    if rc != 0:
        print("FAILED-STEP: script", file=sys.stderr, flush=True)
    return rc


if __name__ == "__main__":
    mode, kind, path, directory = sys.argv[1:5]
    if mode == "extract":
        extract(kind, path, directory)
    else:
        sys.exit(run(kind, path, directory, json.load(open(sys.argv[5]))))
EOF

step "both files parse, and their shell passes shellcheck"
for kind in github gitlab; do
  file=$github
  [[ $kind == gitlab ]] && file=$gitlab
  "$PY" "$TMP/ci_job.py" extract "$kind" "$file" "$TMP/lint-$kind" ||
    fail "cannot extract the steps of $file"
  n=$(find "$TMP/lint-$kind" -name '*.sh' | wc -l)
  ((n >= 1)) || fail "no shell steps in $file"
  shellcheck -s bash "$TMP/lint-$kind"/*.sh >"$TMP/shellcheck-$kind" 2>&1 || {
    cat "$TMP/shellcheck-$kind" >&2
    fail "shellcheck found problems in the steps of $file"
  }
done
# The secrets come from the CI system's secret store, never from the file.
for secret in AWS_SECRET_ACCESS_KEY AWS_ACCESS_KEY_ID MLPACK_SIGNING_KEY_DATA; do
  expect_contains "$github" "$secret: \${{ secrets.$secret }}"
done
expect_contains "$github" "MLPACK_REMOTE_URL: \${{ vars.MLPACK_REMOTE_URL }}"
"$PY" - "$gitlab" <<'EOF' || fail "gitlab-ci.yml defines a secret in the file"
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
defined = set(doc.get("variables") or {})
for job in doc.values():
    if isinstance(job, dict):
        defined |= set(job.get("variables") or {})
bad = defined & {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "MLPACK_SIGNING_KEY_BASE64",
                 "MLPACK_SIGNING_KEY_DATA", "MLPACK_REMOTE_URL"}
sys.exit(f"defined in the file: {sorted(bad)}" if bad else 0)
EOF

step "the release key the secrets hold"
mkdir -p "$TMP/keys"
ok mlp key generate --output "$TMP/keys/release.key" --no-password --json
key_id=$(json "$OUT" 'd["key_id"]')
secret_line=$(sed -n 2p "$TMP/keys/release.key")
[[ ${#secret_line} -gt 100 ]] || fail "unexpected secret key file"

# A bin folder for the runner's PATH: the binary under test as `mlpack`.
mkdir -p "$TMP/bin"
ln -s "$MLPACK" "$TMP/bin/mlpack"
ln -s "$PY" "$TMP/bin/python3"

# run_job KIND RUN TRAIN_C [nokey] : runs the job as run number RUN, a fresh
# runner: new workspace (a copy of examples/), HOME and config. Output in
# $TMP/KIND-RUN.log; prints the job's exit code.
run_job() {
  local kind=$1 run=$2 c=$3 nokey=${4:-} dir="$TMP/$1-run$2" file=$github
  [[ $kind == github ]] || file=$gitlab
  mkdir -p "$dir/workspace" "$dir/home" "$dir/config"
  cp -r "$examples" "$dir/workspace/examples"
  local signing_data signing_b64
  signing_data=$(cat "$TMP/keys/release.key")
  signing_b64=$(base64 -w0 "$TMP/keys/release.key")
  [[ -z $nokey ]] || signing_data="" signing_b64=""
  "$PY" - "$dir/context.json" "$kind" "$run" "$c" "$remote_url" "$signing_data" "$signing_b64" \
    "$TMP/keys/release.key.pub" <<'EOF'
import json, sys
out, kind, run, c, remote, key_data, key_b64, pub = sys.argv[1:9]
public = open(pub).read().strip()
if kind == "github":
    ctx = {
        "secrets": {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE0000TEST",
                    "AWS_SECRET_ACCESS_KEY": "example/secret/never/used/by/a/file/remote",
                    "MLPACK_SIGNING_KEY_DATA": key_data},
        "vars": {"MLPACK_REMOTE_URL": remote, "MLPACK_PUBLIC_KEY": public,
                 "AWS_REGION": "eu-west-1"},
        "github": {"run_number": run, "run_attempt": "1"},
        "inputs": {} if c == "default" else {"train_c": c},
        "github_env": {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "team/models",
                       "GITHUB_RUN_ID": str(9000 + int(run)), "GITHUB_RUN_NUMBER": run,
                       "GITHUB_ACTIONS": "true", "CI": "true"},
    }
else:
    ctx = {
        "settings": {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE0000TEST",
                     "AWS_SECRET_ACCESS_KEY": "example/secret/never/used/by/a/file/remote",
                     "MLPACK_SIGNING_KEY_BASE64": key_b64, "MLPACK_REMOTE_URL": remote,
                     "MLPACK_PUBLIC_KEY": public, "AWS_REGION": "eu-west-1"},
        "predefined": {"CI_PIPELINE_IID": run, "CI_JOB_ID": str(7000 + int(run)),
                       "CI_JOB_URL": f"https://gitlab.example/team/models/-/jobs/{7000 + int(run)}",
                       "GITLAB_CI": "true", "CI": "true"},
        "pipeline": {} if c == "default" else {"TRAIN_C": c},
    }
json.dump(ctx, open(out, "w"))
EOF
  local rc=0
  env -u MLPACK_DIR HOME="$dir/home" XDG_CONFIG_HOME="$dir/config" PATH="$TMP/bin:/usr/bin:/bin" \
    "$PY" "$TMP/ci_job.py" run "$kind" "$file" "$dir/workspace" "$dir/context.json" \
    >"$TMP/$kind-$run.log" 2>&1 || rc=$?
  echo "$rc"
}

# remote_state : every file of the remote with its digest.
remote_state() { (cd "$remote" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum); }
remote_ref() { cat "$remote/$1"; }

# check_release KIND VERSION : a fresh repository that trusts only the
# release key pulls iris@production, which is VERSION, signed by that key.
check_release() {
  local dir="$TMP/check-$1-$2"
  new_repo "$dir"
  mkdir -p "$dir/config"
  XDG_CONFIG_HOME="$dir/config" "$MLPACK" key trust "$TMP/keys/release.key.pub" >/dev/null
  XDG_CONFIG_HOME="$dir/config" MLPACK_DIR="$dir" "$MLPACK" pull -r "$remote_url" iris@production \
    >"$OUT" 2>"$ERR" || fail "a repository trusting the release key cannot pull iris@production: $(cat "$ERR")"
  XDG_CONFIG_HOME="$dir/config" MLPACK_DIR="$dir" "$MLPACK" inspect iris@production --json >"$dir.json"
  expect_eq "$(json "$dir.json" 'd["manifest"]["version"]')" "$2" "the version of iris@production"
  expect_eq "$(json "$dir.json" 'd["signature"]["key_id"]')" "$key_id" "the key that signed iris@production"
}

for kind in github gitlab; do
  remote="$TMP/remote-$kind"
  remote_url="file://$remote"
  if [[ $kind == github ]]; then v() { echo "ci-$1.1"; }; else v() { echo "ci-$1.$((7000 + $1))"; }; fi

  step "$kind, run 1: no production yet; the candidate becomes the first release"
  rc=$(run_job "$kind" 1 default)
  log="$TMP/$kind-1.log"
  [[ $rc == 0 ]] || { cat "$log" >&2; fail "$kind run 1 exited $rc"; }
  expect_contains "$log" "-- skipped: "
  expect_contains "$log" "no iris@production on the remote yet: iris:$(v 1) will be the first release"
  expect_contains "$log" "trained iris model with C=1.0"
  first=$(remote_ref "tags/iris/$(v 1)")
  expect_eq "$(remote_ref stages/iris/production)" "$first" "the remote's production after run 1"
  check_release "$kind" "$(v 1)"
  expect_not_contains "$log" "$secret_line"
  before=$(remote_state)

  step "$kind, run 2: a worse candidate fails the job with exit 6 and changes nothing"
  rc=$(run_job "$kind" 2 0.01)
  log="$TMP/$kind-2.log"
  [[ $rc == 6 ]] || { cat "$log" >&2; fail "$kind run 2 (C=0.01) exited $rc, expected 6"; }
  expect_contains "$log" "trained iris model with C=0.01"
  expect_contains "$log" "pulled iris:$(v 1) "
  expect_contains "$log" "mlpack: error: --fail-on: 1 of 2 held: any-metric-regression (worse: "
  if [[ $kind == github ]]; then
    expect_contains "$log" "FAILED-STEP: Gate the candidate against production"
  fi
  expect_eq "$(remote_state)" "$before" "the remote after a failed gate"
  expect_no_path "$remote/tags/iris/$(v 2)"
  expect_not_contains "$log" "$secret_line"

  step "$kind, run 3: a better candidate passes the gate and becomes production"
  rc=$(run_job "$kind" 3 10)
  log="$TMP/$kind-3.log"
  [[ $rc == 0 ]] || { cat "$log" >&2; fail "$kind run 3 (C=10) exited $rc"; }
  expect_contains "$log" "pulled iris:$(v 1) "
  expect_contains "$log" "passed  any-metric-regression  no metric with a goal got worse"
  third=$(remote_ref "tags/iris/$(v 3)")
  expect_ne "$third" "$first" "the digests of runs 1 and 3"
  expect_eq "$(remote_ref stages/iris/production)" "$third" "the remote's production after run 3"
  expect_eq "$(remote_ref "tags/iris/$(v 1)")" "$first" "the remote's first release after run 3"
  check_release "$kind" "$(v 3)"
  before=$(remote_state)

  step "$kind, run 4: without the signing key the job fails before pushing anything"
  rc=$(run_job "$kind" 4 default nokey)
  log="$TMP/$kind-4.log"
  [[ $rc != 0 ]] || { cat "$log" >&2; fail "$kind run 4 (no signing key) exited 0"; }
  expect_contains "$log" "to the release key"
  expect_eq "$(remote_state)" "$before" "the remote after a run without the signing key"
done
echo "example ci: ok"
