# Depot: the two commands. A thin wrapper over CMake; see README.md.
#   make demo   install missing packages, build, start depotd with demo data
#   make test   install missing packages, build with ASan+UBSan, run the whole suite
BUILD_DIR ?= build
DEMO_DIR  ?= var/demo
JOBS      ?= $(shell nproc)
CTEST_ARGS ?=

.PHONY: all deps build build-asan demo test valgrind deb clean

all: build

deps:
	@sh packaging/install-deps.sh

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD_DIR) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Asan -DWITH_WERROR=ON
	cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	sh packaging/demo/run-demo.sh $(BUILD_DIR)/bin $(DEMO_DIR)

test: build-asan
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

# The unit suites under valgrind (a separate non-ASan build; valgrind and ASan don't mix).
valgrind: deps
	cmake -S . -B $(BUILD_DIR)-valgrind -DCMAKE_BUILD_TYPE=Debug -DWITH_VALGRIND_TESTS=ON
	cmake --build $(BUILD_DIR)-valgrind -j $(JOBS)
	cd $(BUILD_DIR)-valgrind && ctest --output-on-failure -j $(JOBS) -L valgrind

# The Debian package (CPack, see docs/PACKAGING.md): RelWithDebInfo in $(BUILD_DIR), then
# $(BUILD_DIR)/depot_VERSION_ARCH.deb.
deb: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD_DIR) -j $(JOBS)
	cd $(BUILD_DIR) && cpack -G DEB

clean:
	rm -rf $(BUILD_DIR) $(BUILD_DIR)-valgrind
