#!/usr/bin/env bash
# Deploy an already-packaged template to one stage, then run the deploy's smoke check against what is live.
#
#   tools/deploy-stage.sh <stage> <packaged template>   # CI's staging and production jobs; the stage is a samconfig.toml
#                                                         # section ([staging], [production]) naming the stack
#   tools/deploy-stage.sh --stack-name <stage>          # print the stage's stack name
#
# No build happens here: the template's code is the objects `sam package` uploaded from the tested build. The smoke
# check (functions/deploy_hook/smoke.py) is the pre-traffic hook's: CodeDeploy runs it before shifting traffic on an
# update, but a stack's first deploy runs no hook, so it runs here after every deploy. Needs AWS credentials and
# AWS_REGION; writes api_url to $GITHUB_OUTPUT when run by GitHub Actions.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

stack_name() {
  .venv/bin/python -c 'import sys, tomllib; print(tomllib.load(open("samconfig.toml", "rb"))[sys.argv[1]]["global"]["parameters"]["stack_name"])' "$1"
}

if [[ "${1:-}" == "--stack-name" ]]; then
  stack_name "$2"
  exit 0
fi
stage="${1:?usage: tools/deploy-stage.sh <stage> <packaged template>}"
template="${2:?usage: tools/deploy-stage.sh <stage> <packaged template>}"
stack="$(stack_name "$stage")"
region="${AWS_REGION:?set AWS_REGION to the region of the stack}"

.venv/bin/sam deploy --template-file "$template" --config-env "$stage" --stack-name "$stack" --region "$region" \
  --no-confirm-changeset --no-fail-on-empty-changeset

# A stack output's value.
output() {
  .venv/bin/python -c 'import sys, boto3
stack, region, key = sys.argv[1:]
outputs = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]
print(next(o["OutputValue"] for o in outputs if o["OutputKey"] == key))' "$stack" "$region" "$1"
}

api_url="$(output ApiUrl)"
PYTHONPATH=functions .venv/bin/python -m deploy_hook.smoke --function "$(output FunctionAliasArn)" --region "$region"
echo "$stage: $stack live at $api_url"
[[ -z "${GITHUB_OUTPUT:-}" ]] || echo "api_url=$api_url" >> "$GITHUB_OUTPUT"
