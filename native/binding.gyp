{
  "targets": [
    {
      "target_name": "kennel_native",
      "sources": ["src/addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags_cc!": ["-std=gnu++17", "-std=c++17"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "-pthread"],
      "ldflags": ["-pthread"],
      "conditions": [
        ["OS=='linux'", {
          "cflags": ["-O3", "-fvisibility=hidden"],
          "cflags_cc": ["-O3", "-fvisibility=hidden", "-fvisibility-inlines-hidden"]
        }]
      ]
    }
  ]
}
