/* llama-quantize without llama-quantize: calls llama_model_quantize in the
 * libllama that node-llama-cpp ships (tests/e2e_llamacpp_interop.sh builds
 * this with cc and compares the output with `llmkit quantize`).
 *
 *   llamacpp_quantize LIBDIR IN.gguf OUT.gguf FTYPE [THREADS]
 *
 * FTYPE is a llama_ftype number (2 = Q4_0, 15 = Q4_K_M, ...). The params
 * struct is not declared here: llama_model_quantize_default_params() fills
 * it and only its first two fields are set, int32_t nthread and enum
 * llama_ftype ftype, the layout every llama.h has had since the struct
 * appeared (tests/golden/quant/make_mix_golden.py relies on the same). The
 * buffer is larger than any version's struct. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int32_t nthread;
    int32_t ftype;
    unsigned char rest[504];
} quantize_params;

typedef void (*backend_init_fn)(void);
typedef quantize_params (*default_params_fn)(void);
typedef uint32_t (*quantize_fn)(const char *in, const char *out, const quantize_params *p);

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: llamacpp_quantize LIBDIR IN.gguf OUT.gguf FTYPE [THREADS]\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/libllama.v0.4.0.so", argv[1]);
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "llamacpp_quantize: %s\n", dlerror());
        return 1;
    }
    backend_init_fn init = (backend_init_fn)(uintptr_t)dlsym(lib, "llama_backend_init");
    default_params_fn defaults =
        (default_params_fn)(uintptr_t)dlsym(lib, "llama_model_quantize_default_params");
    quantize_fn quantize = (quantize_fn)(uintptr_t)dlsym(lib, "llama_model_quantize");
    if (!init || !defaults || !quantize) {
        fprintf(stderr, "llamacpp_quantize: %s lacks the llama_model_quantize API\n", path);
        return 1;
    }
    init();
    quantize_params p = defaults();
    p.ftype = atoi(argv[4]);
    p.nthread = argc > 5 ? atoi(argv[5]) : 1;
    uint32_t rc = quantize(argv[2], argv[3], &p);
    if (rc != 0) fprintf(stderr, "llamacpp_quantize: llama_model_quantize returned %u\n", rc);
    return rc != 0;
}
