# Builds the function for `sam build` (template.yaml: PortalFunction, Metadata BuildMethod: makefile). SAM copies
# functions/ to a scratch directory, runs `make build-PortalFunction` there with ARTIFACTS_DIR set, and zips it.
# Why not the default python3.13 build method: it copies the sources without bytecode, and SAM's zip resets file
# times to 1980, so /var/task (read-only) would have every module of the package compiled at every cold start.
PYTHON ?= python3.13
# checked-hash: valid whatever the file times are; still rejected if a source no longer matches its bytecode.
INVALIDATION_MODE ?= checked-hash

.PHONY: build-PortalFunction

build-PortalFunction:
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 1; }
	cp -R paddle_portal "$(ARTIFACTS_DIR)/"
	find "$(ARTIFACTS_DIR)" -name __pycache__ -prune -exec rm -rf {} +
	$(PYTHON) -m compileall -q -f --invalidation-mode $(INVALIDATION_MODE) "$(ARTIFACTS_DIR)/paddle_portal"
