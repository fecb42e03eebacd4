# The two commands of the README: `make run` and `make test`. Both install what is missing first.
.PHONY: run test setup build bench fuzz

setup:
	@bash tools/setup.sh

build: setup
	swift build -c release

run: build
	LANG=C.UTF-8 .build/release/spt-tui $(ARGS)

# Tests run one BLAS thread each: Swift Testing runs tests in parallel on two cores. Then the
# Python package's tests in the project's venv (created once by tools/setup-python.sh, cached in
# ~/.cache/spt/venv): the parity tests train with torch and timm against the spt binary just built.
test: setup
	OPENBLAS_NUM_THREADS=1 swift test
	py=$$(bash tools/setup-python.sh) && cd python && OMP_NUM_THREADS=1 $$py -m unittest discover -s tests -v

# The PyTorch and scikit-learn comparisons run in a virtual environment the script creates once.
bench: build
	py=$$(bash tools/setup-python.sh) && \
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .build/release/spt bench --python "$$py" $(ARGS)

# libFuzzer on the readers of users' files, FUZZ_SECONDS each (tools/fuzz.sh).
FUZZ_SECONDS ?= 30
fuzz: setup
	bash tools/fuzz.sh $(FUZZ_SECONDS)
