# signlink: `make run` starts the service on a fresh machine; `make test` runs everything CI runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MODELS := models/hand_landmarker.task models/face_detection_short_range.tflite \
	models/face_detection_full_range_sparse.tflite

.PHONY: run test check pytest models system-deps-run system-deps-test compose-check bench clean

# The SAMPLE service-centre directory is generated and imported on the first run (docs/operations.md).
run: system-deps-run $(VENV)/.installed models
	$(BIN)/signlink db migrate >/dev/null
	$(BIN)/signlink centres sample --if-empty
	$(BIN)/signlink serve

test: system-deps-test $(VENV)/.installed models node_modules/.installed check compose-check pytest

system-deps-run:
	@scripts/system-deps.sh run

system-deps-test:
	@scripts/system-deps.sh test

$(VENV)/.installed: pyproject.toml requirements-nodeps.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --no-deps -r requirements-nodeps.txt
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

# Built from the published mediapipe wheel and checked by sha256 (models/README.md): a checkout
# missing any of $(MODELS) (or holding a stale one) gets all of them rebuilt.
models: $(VENV)/.installed
	@$(BIN)/signlink models verify >/dev/null 2>&1 || $(BIN)/signlink models build

check: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

compose-check:
	docker-compose -f docker-compose.yml config -q

# Inside a loopback-only network namespace: WebRTC and the browser cannot reach any other address.
pytest: $(VENV)/.installed models node_modules/.installed
	scripts/loopback-only $(BIN)/pytest -q $(PYTEST_ARGS)

# One benchmark: `make bench BENCH=queue` (quality, quality_live, queue, queue_sim, relay, ws_idle, qa, soak,
# accept_to_video, finder). Each prints its figures beside a baseline from the same run, JSON last.
BENCH ?= quality
bench: $(VENV)/.installed models node_modules/.installed
	scripts/loopback-only $(BIN)/python -m benchmarks.$(BENCH)

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache
