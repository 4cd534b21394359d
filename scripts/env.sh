# Sourced by the scripts: the environment every certfleet run here uses. Expects ROOT and PULUMI_BIN.
export PATH="$PULUMI_BIN:$ROOT/.venv/bin:$PATH"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PYTHONDONTWRITEBYTECODE=1
