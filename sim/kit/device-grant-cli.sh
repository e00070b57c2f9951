#!/bin/sh
# This project's CLI wrapped to the kit's contract (see sim/README.md).
# DEVICE_GRANT names the binary (default: device-grant on PATH).
set -u
exe=${DEVICE_GRANT:-device-grant}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

set -- --device-endpoint "$DEVICE_AUTHORIZATION_ENDPOINT" --token-endpoint "$TOKEN_ENDPOINT" \
  --client-id "$CLIENT_ID" --scope "$SCOPE"
case "$PROVIDER" in
  rfc|auth0) ;;
  azure-ad-v1) set -- "$@" --provider azure-ad-v1 --resource "$RESOURCE" ;;
  *) set -- "$@" --provider "$PROVIDER" ;;
esac
case "$CLIENT_AUTH_METHOD" in
  client_secret_basic) set -- "$@" --auth-method basic ;;
  client_secret_post) set -- "$@" --auth-method post ;;
esac
export DEVICE_GRANT_CLIENT_SECRET="${CLIENT_SECRET:-}"
[ -n "${CLIENT_SECRET:-}" ] || unset DEVICE_GRANT_CLIENT_SECRET

# The prompt (with the user code) is on the CLI's stderr: it becomes our stdout.
"$exe" login "$@" --no-qr --output token --cache "$work/cache.json" 2>&1 >"$work/token" || exit $?
echo "access_token=$(cat "$work/token")"

if [ "${HARNESS_REFRESH:-}" = 1 ]; then
  i=0
  while [ "$i" -lt "${HARNESS_REFRESH_COUNT:-1}" ]; do
    "$exe" refresh --cache "$work/cache.json" --output token >"$work/token" || exit $?
    echo "refreshed_access_token=$(cat "$work/token")"
    i=$((i + 1))
  done
fi
