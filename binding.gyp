{
  # Built by scripts/build-addon.mjs (npm run build:addon), never by a bare
  # `npm install` (package.json has "gypfile": false and its own install script).
  # Output: build/Release/mpilock.node
  "targets": [
    {
      "target_name": "mpilock",
      # Every .cc under addon/ but its test/ programs (node_lock/test/ has its own mains), so a
      # new source file needs no edit here. Includes are written from addon/.
      "sources": [
        "<!@(node -p \"require('fs').readdirSync('addon', { recursive: true }).filter(function (f) { return f.endsWith('.cc') && f.split('/').indexOf('test') < 0; }).sort().map(function (f) { return 'addon/' + f; }).join(' ')\")"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "addon"
      ],
      "defines": [
        "OMPI_SKIP_MPICXX=1",
        "MPICH_SKIP_MPICXX=1",
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS"
      ],
      # MPI compile and link flags from the MPI wrapper (MPICC, mpicc) or pkg-config.
      "cflags": [
        "<!@(node scripts/mpi-flags.mjs cflags)",
        "-Wall",
        "-Wextra",
        "-fexceptions"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-fexceptions"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-fno-rtti"],
      "libraries": ["<!@(node scripts/mpi-flags.mjs libs)"],
      "configurations": {
        "Release": {
          "cflags": ["-O2"],
          "cflags!": ["-O3"],
          "cflags_cc!": ["-O3"]
        }
      },
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "GCC_OPTIMIZATION_LEVEL": "2"
      }
    }
  ]
}
