/* HF config.json -> lk_hparams, HF <-> internal tensor names, GGUF metadata
 * -> lk_hparams.
 *
 * The config fixtures are the config.json (and generation_config.json) files
 * of real published checkpoints, typed in here with ' for " so they stay
 * readable; every field of the result is checked against what transformers
 * computes for them (the class defaults are quoted beside each check). */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "format/gguf.h"
#include "format/gguf_hparams.h"
#include "format/hf_config.h"
#include "format/tensor_names.h"
#include "test.h"

/* ---------------------------------------------------------------- helpers */

/* Parses config (and generation config, or NULL), with ' standing for ". */
static lk_status parse2(const char *config, const char *generation, lk_hparams *hp,
                        lk_error *err) {
    char *c = strdup(config), *g = generation ? strdup(generation) : NULL;
    for (char *p = c; *p; p++)
        if (*p == '\'') *p = '"';
    for (char *p = g; p && *p; p++)
        if (*p == '\'') *p = '"';
    lk_json_doc cd = {c, strlen(c), "m/config.json"};
    lk_json_doc gd = {g, g ? strlen(g) : 0, "m/generation_config.json"};
    lk_error_clear(err);
    lk_status st = lk_hf_config_parse(&cd, g ? &gd : NULL, hp, err);
    free(c);
    free(g);
    return st;
}

static lk_status parse(const char *config, lk_hparams *hp, lk_error *err) {
    return parse2(config, NULL, hp, err);
}

static bool contains(const char *haystack, const char *needle) {
    return strstr(haystack, needle) != NULL;
}

#define CHECK_EOS(hp, ...)                                                                    \
    do {                                                                                      \
        const int32_t want_[] = {__VA_ARGS__};                                                \
        int n_ = (int)(sizeof want_ / sizeof want_[0]);                                       \
        CHECK_EQ_INT((hp).n_eos, n_);                                                         \
        for (int i_ = 0; i_ < n_ && i_ < (hp).n_eos; i_++) CHECK_EQ_INT((hp).eos_ids[i_], want_[i_]); \
    } while (0)

/* ---------------------------------------------------------------- real configs */

static const char TINYLLAMA[] =
    "{'architectures': ['LlamaForCausalLM'], 'attention_bias': false, 'bos_token_id': 1,"
    " 'eos_token_id': 2, 'hidden_act': 'silu', 'hidden_size': 2048, 'initializer_range': 0.02,"
    " 'intermediate_size': 5632, 'max_position_embeddings': 2048, 'model_type': 'llama',"
    " 'num_attention_heads': 32, 'num_hidden_layers': 22, 'num_key_value_heads': 4,"
    " 'pretraining_tp': 1, 'rms_norm_eps': 1e-05, 'rope_scaling': null, 'rope_theta': 10000.0,"
    " 'tie_word_embeddings': false, 'torch_dtype': 'bfloat16', 'transformers_version': '4.35.0',"
    " 'use_cache': true, 'vocab_size': 32000}";

static void test_tinyllama(void) {
    lk_hparams hp;
    lk_error err;
    CHECK_OK(parse(TINYLLAMA, &hp, &err), &err);
    CHECK_EQ_STR(hp.arch, "llama");
    CHECK_EQ_INT(hp.n_vocab, 32000);
    CHECK_EQ_INT(hp.n_embd, 2048);
    CHECK_EQ_INT(hp.n_layer, 22);
    CHECK_EQ_INT(hp.n_head, 32);
    CHECK_EQ_INT(hp.n_head_kv, 4);
    CHECK_EQ_INT(hp.head_dim, 64);
    CHECK_EQ_INT(hp.n_ff, 5632);
    CHECK_EQ_INT(hp.n_ctx_train, 2048);
    CHECK(hp.norm == LK_NORM_RMS);
    CHECK_NEAR(hp.norm_eps, 1e-5, 1e-12);
    CHECK(hp.act == LK_ACT_SILU);
    CHECK(hp.rope_layout == LK_ROPE_HALF);
    CHECK_NEAR(hp.rope_theta, 10000.0, 0);
    CHECK_EQ_INT(hp.n_rot, 64);
    CHECK(hp.rope_scaling == LK_ROPE_SCALING_NONE);
    CHECK_NEAR(hp.rope_factor, 1.0, 0);
    CHECK(!hp.tied_embeddings);
    CHECK(!hp.attn_qkv_bias);
    CHECK(!hp.qk_norm);
    CHECK_NEAR(hp.attn_softcap, 0, 0);
    CHECK_NEAR(hp.final_softcap, 0, 0);
    CHECK_EQ_INT(hp.sliding_window, 0);
    CHECK_NEAR(hp.query_pre_attn_scalar, 0, 0);
    CHECK(!hp.embd_scale);
    CHECK(!hp.norm_plus_one);
    CHECK_EQ_INT(hp.bos_id, 1);
    CHECK_EOS(hp, 2);
    CHECK_EQ_INT(hp.pad_id, -1);
}

static const char LLAMA32_1B[] =
    "{'architectures': ['LlamaForCausalLM'], 'attention_bias': false, 'attention_dropout': 0.0,"
    " 'bos_token_id': 128000, 'eos_token_id': [128001, 128008, 128009], 'head_dim': 64,"
    " 'hidden_act': 'silu', 'hidden_size': 2048, 'initializer_range': 0.02,"
    " 'intermediate_size': 8192, 'max_position_embeddings': 131072, 'mlp_bias': false,"
    " 'model_type': 'llama', 'num_attention_heads': 32, 'num_hidden_layers': 16,"
    " 'num_key_value_heads': 8, 'pretraining_tp': 1, 'rms_norm_eps': 1e-05,"
    " 'rope_scaling': {'factor': 32.0, 'high_freq_factor': 4.0, 'low_freq_factor': 1.0,"
    " 'original_max_position_embeddings': 8192, 'rope_type': 'llama3'},"
    " 'rope_theta': 500000.0, 'tie_word_embeddings': true, 'torch_dtype': 'bfloat16',"
    " 'transformers_version': '4.45.0.dev0', 'use_cache': true, 'vocab_size': 128256}";

static void test_llama32(void) {
    lk_hparams hp;
    lk_error err;
    CHECK_OK(parse(LLAMA32_1B, &hp, &err), &err);
    CHECK_EQ_INT(hp.n_vocab, 128256);
    CHECK_EQ_INT(hp.n_layer, 16);
    CHECK_EQ_INT(hp.n_head_kv, 8);
    CHECK_EQ_INT(hp.head_dim, 64);
    CHECK_EQ_INT(hp.n_ctx_train, 131072);
    CHECK_NEAR(hp.rope_theta, 500000.0, 0);
    CHECK(hp.rope_scaling == LK_ROPE_SCALING_LLAMA3);
    CHECK_NEAR(hp.rope_factor, 32.0, 0);
    CHECK_NEAR(hp.rope_low_freq_factor, 1.0, 0);
    CHECK_NEAR(hp.rope_high_freq_factor, 4.0, 0);
    CHECK_EQ_INT(hp.rope_orig_ctx, 8192);
    CHECK(hp.tied_embeddings);
    CHECK_EQ_INT(hp.bos_id, 128000);
    CHECK_EOS(hp, 128001, 128008, 128009);

    /* transformers 5.x writes rope_parameters instead of rope_theta/rope_scaling. */
    static const char V5[] =
        "{'model_type': 'llama', 'vocab_size': 128256, 'hidden_size': 2048,"
        " 'intermediate_size': 8192, 'num_hidden_layers': 16, 'num_attention_heads': 32,"
        " 'rope_parameters': {'rope_theta': 500000.0, 'rope_type': 'llama3', 'factor': 32.0,"
        " 'low_freq_factor': 1.0, 'high_freq_factor': 4.0,"
        " 'original_max_position_embeddings': 8192}}";
    CHECK_OK(parse(V5, &hp, &err), &err);
    CHECK_NEAR(hp.rope_theta, 500000.0, 0);
    CHECK(hp.rope_scaling == LK_ROPE_SCALING_LLAMA3);
    CHECK_NEAR(hp.rope_factor, 32.0, 0);
    CHECK_EQ_INT(hp.rope_orig_ctx, 8192);
    static const char V5_DEFAULT[] =
        "{'model_type': 'qwen3', 'vocab_size': 100, 'hidden_size': 64, 'intermediate_size': 96,"
        " 'num_hidden_layers': 2, 'num_attention_heads': 4, 'num_key_value_heads': 2,"
        " 'rope_parameters': {'rope_theta': 1000000.0, 'rope_type': 'default'}}";
    CHECK_OK(parse(V5_DEFAULT, &hp, &err), &err);
    CHECK_NEAR(hp.rope_theta, 1000000.0, 0);
    CHECK(hp.rope_scaling == LK_ROPE_SCALING_NONE);
}

static const char MISTRAL_7B_V01[] =
    "{'architectures': ['MistralForCausalLM'], 'bos_token_id': 1, 'eos_token_id': 2,"
    " 'hidden_act': 'silu', 'hidden_size': 4096, 'initializer_range': 0.02,"
    " 'intermediate_size': 14336, 'max_position_embeddings': 32768, 'model_type': 'mistral',"
    " 'num_attention_heads': 32, 'num_hidden_layers': 32, 'num_key_value_heads': 8,"
    " 'rms_norm_eps': 1e-05, 'rope_theta': 10000.0, 'sliding_window': 4096,"
    " 'tie_word_embeddings': false, 'torch_dtype': 'bfloat16',"
    " 'transformers_version': '4.34.0.dev0', 'use_cache': true, 'vocab_size': 32000}";

static void test_mistral(void) {
    lk_hparams hp;
    lk_error err;
    CHECK_OK(parse(MISTRAL_7B_V01, &hp, &err), &err);
    CHECK_EQ_STR(hp.arch, "mistral");
    CHECK_EQ_INT(hp.n_embd, 4096);
    CHECK_EQ_INT(hp.n_head_kv, 8);
    CHECK_EQ_INT(hp.head_dim, 128);
    CHECK_EQ_INT(hp.n_ff, 14336);
    CHECK_EQ_INT(hp.n_ctx_train, 32768);
    CHECK_EQ_INT(hp.sliding_window, 4096);
    CHECK(hp.rope_layout == LK_ROPE_HALF);
    CHECK(!hp.attn_qkv_bias);
    CHECK(!hp.tied_embeddings);
    CHECK_EQ_INT(hp.bos_id, 1);
    CHECK_EOS(hp, 2);

    /* MistralConfig defaults: absent kv heads = 8 but null = all heads;
     * absent sliding_window = 4096 but null = none; 4096*32 positions. */
    static const char BARE[] =
        "{'model_type': 'mistral', 'vocab_size': 32000, 'hidden_size': 4096,"
        " 'intermediate_size': 14336, 'num_hidden_layers': 32, 'num_attention_heads': 32}";
    CHECK_OK(parse(BARE, &hp, &err), &err);
    CHECK_EQ_INT(hp.n_head_kv, 8);
    CHECK_EQ_INT(hp.sliding_window, 4096);
    CHECK_EQ_INT(hp.n_ctx_train, 131072);
    CHECK_NEAR(hp.norm_eps, 1e-6, 1e-13);
    static const char NULLS[] =
        "{'model_type': 'mistral', 'vocab_size': 32000, 'hidden_size': 4096,"
        " 'intermediate_size': 14336, 'num_hidden_layers': 32, 'num_attention_heads': 32,"
        " 'num_key_value_heads': null, 'sliding_window': null, 'head_dim': null}";
    CHECK_OK(parse(NULLS, &hp, &err), &err);
    CHECK_EQ_INT(hp.n_head_kv, 32);
    CHECK_EQ_INT(hp.sliding_window, 0);
    CHECK_EQ_INT(hp.head_dim, 128);
}

static const char QWEN25_05B[] =
    "{'architectures': ['Qwen2ForCausalLM'], 'attention_dropout': 0.0,"
    " 'bos_token_id': 151643, 'eos_token_id': 151645, 'hidden_act': 'silu', 'hidden_size': 896,"
    " 'initializer_range': 0.02, 'intermediate_size': 4864, 'max_position_embeddings': 32768,"
    " 'max_window_layers': 21, 'model_type': 'qwen2', 'num_attention_heads': 14,"
    " 'num_hidden_layers': 24, 'num_key_value_heads': 2, 'rms_norm_eps': 1e-06,"
    " 'rope_theta': 1000000.0, 'sliding_window': 32768, 'tie_word_embeddings': true,"
    " 'torch_dtype': 'bfloat16', 'transformers_version': '4.43.1', 'use_cache': true,"
    " 'use_sliding_window': false, 'vocab_size': 151936}";
static const char QWEN25_05B_GEN[] =
    "{'bos_token_id': 151643, 'pad_token_id': 151643, 'do_sample': true,"
    " 'eos_token_id': [151645, 151643], 'repetition_penalty': 1.1, 'temperature': 0.7,"
    " 'top_p': 0.8, 'top_k': 20, 'transformers_version': '4.37.0'}";

static void test_qwen2(void) {
    lk_hparams hp;
    lk_error err;
    CHECK_OK(parse2(QWEN25_05B, QWEN25_05B_GEN, &hp, &err), &err);
    CHECK_EQ_STR(hp.arch, "qwen2");
    CHECK_EQ_INT(hp.n_vocab, 151936);
    CHECK_EQ_INT(hp.n_embd, 896);
    CHECK_EQ_INT(hp.n_layer, 24);
    CHECK_EQ_INT(hp.n_head, 14);
    CHECK_EQ_INT(hp.n_head_kv, 2);
    CHECK_EQ_INT(hp.head_dim, 64);
    CHECK_EQ_INT(hp.n_ff, 4864);
    CHECK_EQ_INT(hp.n_ctx_train, 32768);
    CHECK_NEAR(hp.norm_eps, 1e-6, 1e-13);
    CHECK_NEAR(hp.rope_theta, 1e6, 0);
    CHECK_EQ_INT(hp.n_rot, 64);
    CHECK(hp.attn_qkv_bias); /* Qwen2Attention always has q/k/v biases */
    CHECK(!hp.qk_norm);
    CHECK(hp.tied_embeddings);
    CHECK_EQ_INT(hp.sliding_window, 0); /* use_sliding_window false */
    CHECK_EQ_INT(hp.bos_id, 151643);
    CHECK_EQ_INT(hp.pad_id, 151643);     /* from generation_config.json */
    CHECK_EOS(hp, 151645, 151643);       /* generation_config.json wins */

    /* Without generation_config.json: config's own ids. */
    CHECK_OK(parse(QWEN25_05B, &hp, &err), &err);
    CHECK_EOS(hp, 151645);
    CHECK_EQ_INT(hp.pad_id, -1);

    /* Qwen2Config defaults: absent num_key_value_heads = 32, no bos/eos. */
    static const char BARE[] =
        "{'model_type': 'qwen2', 'vocab_size': 151936, 'hidden_size': 4096,"
        " 'intermediate_size': 22016, 'num_hidden_layers': 32, 'num_attention_heads': 32}";
    CHECK_OK(parse(BARE, &hp, &err), &err);
    CHECK_EQ_INT(hp.n_head_kv, 32);
    CHECK_EQ_INT(hp.n_ctx_train, 32768);
    CHECK(!hp.tied_embeddings);
    CHECK_EQ_INT(hp.bos_id, -1);
    CHECK_EQ_INT(hp.n_eos, 0);

    /* A window on only the upper layers cannot be expressed: refused. */
    static const char SLIDING[] =
        "{'model_type': 'qwen2', 'vocab_size': 1000, 'hidden_size': 64,"
        " 'intermediate_size': 128, 'num_hidden_layers': 4, 'num_attention_heads': 4,"
        " 'num_key_value_heads': 4, 'use_sliding_window': true, 'sliding_window': 256, 'max_window_layers': 2}";
    CHECK(parse(SLIDING, &hp, &err) == LK_ERR_UNSUPPORTED);
    CHECK(contains(err.msg, "max_window_layers"));
    static const char SLIDING_NONE[] =
        "{'model_type': 'qwen2', 'vocab_size': 1000, 'hidden_size': 64,"
        " 'intermediate_size': 128, 'num_hidden_layers': 4, 'num_attention_heads': 4,"
        " 'num_key_value_heads': 4, 'use_sliding_window': true, 'sliding_window': 256, 'max_window_layers': 4}";
    CHECK_OK(parse(SLIDING_NONE, &hp, &err), &err);
    CHECK_EQ_INT(hp.sliding_window, 0);
    static const char SLIDING_ALL[] =
        "{'model_type': 'qwen2', 'vocab_size': 1000, 'hidden_size': 64,"
        " 'intermediate_size': 128, 'num_hidden_layers': 4, 'num_attention_heads': 4,"
        " 'num_key_value_heads': 4, 'use_sliding_window': true, 'sliding_window': 256, 'max_window_layers': 0}";
    CHECK_OK(parse(SLIDING_ALL, &hp, &err), &err);
    CHECK_EQ_INT(hp.sliding_window, 256);
}

static const char QWEN3_06B[] =
    "{'architectures': ['Qwen3ForCausalLM'], 'attention_bias': false, 'attention_dropout': 0.0,"
    " 'bos_token_id': 151643, 'eos_token_id': 151645, 'head_dim': 128, 'hidden_act': 'silu',"
    " 'hidden_size': 1024, 'initializer_range': 0.02, 'intermediate_size': 3072,"
    " 'max_position_embeddings': 40960, 'max_window_layers': 28, 'model_type': 'qwen3',"
    " 'num_attention_heads': 16, 'num_hidden_layers': 28, 'num_key_value_heads': 8,"
    " 'rms_norm_eps': 1e-06, 'rope_scaling': null, 'rope_theta': 1000000,"
    " 'sliding_window': null, 'tie_word_embeddings': true, 'torch_dtype': 'bfloat16',"
    " 'transformers_version': '4.51.0', 'use_cache': true, 'use_sliding_window': false,"
    " 'vocab_size': 151936}";

static void test_qwen3(void) {
    lk_hparams hp;
    lk_error err;
    CHECK_OK(parse(QWEN3_06B, &hp, &err), &err);
    CHECK_EQ_STR(hp.arch, "qwen3");
    CHECK_EQ_INT(hp.n_embd, 1024);
    CHECK_EQ_INT(hp.n_layer, 28);
    CHECK_EQ_INT(hp.n_head, 16);
    CHECK_EQ_INT(hp.n_head_kv, 8);
    CHECK_EQ_INT(hp.head_dim, 128); /* not 1024 / 16 */
    CHECK_EQ_INT(hp.n_rot, 128);
    CHECK_EQ_INT(hp.n_ff, 3072);
    CHECK_EQ_INT(hp.n_ctx_train, 40960);
    CHECK_NEAR(hp.rope_theta, 1e6, 0);
    CHECK(hp.qk_norm);
    CHECK(!hp.attn_qkv_bias);
    CHECK(hp.tied_embeddings);
    CHECK_EQ_INT(hp.sliding_window, 0);
    CHECK_EQ_INT(hp.bos_id, 151643);
    CHECK_EOS(hp, 151645);

    /* Qwen3Config: head_dim defaults to 128 whatever hidden/heads is. */
    static const char BARE[] =
        "{'model_type': 'qwen3', 'vocab_size': 151936, 'hidden_size': 2048,"
        " 'intermediate_size': 6144, 'num_hidden_layers': 28, 'num_attention_heads': 32}";
    CHECK_OK(parse(BARE, &hp, &err), &err);
    CHECK_EQ_INT(hp.head_dim, 128);
    CHECK_EQ_INT(hp.n_head_kv, 32);
    CHECK_EQ_INT(hp.n_ctx_train, 32768);
    CHECK(!hp.tied_embeddings);
}

static const char GEMMA2_2B[] =
    "{'architectures': ['Gemma2ForCausalLM'], 'attention_bias': false, 'attention_dropout': 0.0,"
    " 'attn_logit_softcapping': 50.0, 'bos_token_id': 2, 'cache_implementation': 'hybrid',"
    " 'eos_token_id': 1, 'final_logit_softcapping': 30.0, 'head_dim': 256,"
    " 'hidden_act': 'gelu_pytorch_tanh', 'hidden_activation': 'gelu_pytorch_tanh',"
    " 'hidden_size': 2304, 'initializer_range': 0.02, 'intermediate_size': 9216,"
    " 'max_position_embeddings': 8192, 'model_type': 'gemma2', 'num_attention_heads': 8,"
    " 'num_hidden_layers': 26, 'num_key_value_heads': 4, 'pad_token_id': 0,"
    " 'query_pre_attn_scalar': 256, 'rms_norm_eps': 1e-06, 'rope_theta': 10000.0,"
    " 'sliding_window': 4096, 'torch_dtype': 'float32', 'transformers_version': '4.42.4',"
    " 'use_cache': true, 'vocab_size': 256000}";

static void test_gemma2(void) {
    lk_hparams hp;
    lk_error err;
    CHECK_OK(parse2(GEMMA2_2B, "{'bos_token_id': 2, 'eos_token_id': [1, 107], 'pad_token_id': 0}",
                    &hp, &err),
             &err);
    CHECK_EQ_STR(hp.arch, "gemma2");
    CHECK_EQ_INT(hp.n_vocab, 256000);
    CHECK_EQ_INT(hp.n_embd, 2304);
    CHECK_EQ_INT(hp.n_layer, 26);
    CHECK_EQ_INT(hp.n_head, 8);
    CHECK_EQ_INT(hp.n_head_kv, 4);
    CHECK_EQ_INT(hp.head_dim, 256);
    CHECK_EQ_INT(hp.n_rot, 256);
    CHECK_EQ_INT(hp.n_ff, 9216);
    CHECK_EQ_INT(hp.n_ctx_train, 8192);
    CHECK(hp.act == LK_ACT_GELU_TANH);
    CHECK(hp.norm == LK_NORM_RMS);
    CHECK_NEAR(hp.attn_softcap, 50.0, 0);
    CHECK_NEAR(hp.final_softcap, 30.0, 0);
    CHECK_EQ_INT(hp.sliding_window, 4096);
    CHECK_NEAR(hp.query_pre_attn_scalar, 256.0, 0);
    CHECK(hp.embd_scale);
    CHECK(hp.norm_plus_one);
    CHECK(hp.tied_embeddings); /* Gemma2Config default */
    CHECK(!hp.attn_qkv_bias);
    CHECK(hp.rope_layout == LK_ROPE_HALF);
    CHECK_EQ_INT(hp.bos_id, 2);
    CHECK_EQ_INT(hp.pad_id, 0);
    CHECK_EOS(hp, 1, 107);

    /* Class defaults: softcaps 50/30, window 4096, scalar 256, head_dim 256,
     * 4 kv heads; null softcaps switch them off. */
    static const char BARE[] =
        "{'model_type': 'gemma2', 'vocab_size': 256000, 'hidden_size': 3584,"
        " 'intermediate_size': 14336, 'num_hidden_layers': 42, 'num_attention_heads': 16}";
    CHECK_OK(parse(BARE, &hp, &err), &err);
    CHECK_NEAR(hp.attn_softcap, 50.0, 0);
    CHECK_NEAR(hp.final_softcap, 30.0, 0);
    CHECK_EQ_INT(hp.sliding_window, 4096);
    CHECK_NEAR(hp.query_pre_attn_scalar, 256.0, 0);
    CHECK_EQ_INT(hp.head_dim, 256);
    CHECK_EQ_INT(hp.n_head_kv, 4);
    CHECK(hp.act == LK_ACT_GELU_TANH);
    CHECK_EQ_INT(hp.bos_id, 2);
    CHECK_EOS(hp, 1);
    CHECK_EQ_INT(hp.pad_id, 0);
    static const char NO_CAPS[] =
        "{'model_type': 'gemma2', 'vocab_size': 256000, 'hidden_size': 3584,"
        " 'intermediate_size': 14336, 'num_hidden_layers': 42, 'num_attention_heads': 16,"
        " 'attn_logit_softcapping': null, 'final_logit_softcapping': null,"
        " 'sliding_window': null, 'query_pre_attn_scalar': 224}";
    CHECK_OK(parse(NO_CAPS, &hp, &err), &err);
    CHECK_NEAR(hp.attn_softcap, 0, 0);
    CHECK_NEAR(hp.final_softcap, 0, 0);
    CHECK_EQ_INT(hp.sliding_window, 0);
    CHECK_NEAR(hp.query_pre_attn_scalar, 224.0, 0);
}

static const char GEMMA_2B[] =
    "{'architectures': ['GemmaForCausalLM'], 'attention_bias': false, 'attention_dropout': 0.0,"
    " 'bos_token_id': 2, 'eos_token_id': 1, 'head_dim': 256, 'hidden_act': 'gelu',"
    " 'hidden_size': 2048, 'initializer_range': 0.02, 'intermediate_size': 16384,"
    " 'max_position_embeddings': 8192, 'model_type': 'gemma', 'num_attention_heads': 8,"
    " 'num_hidden_layers': 18, 'num_key_value_heads': 1, 'pad_token_id': 0,"
    " 'rms_norm_eps': 1e-06, 'rope_scaling': null, 'rope_theta': 10000.0,"
    " 'torch_dtype': 'bfloat16', 'transformers_version': '4.38.0.dev0', 'use_cache': true,"
    " 'vocab_size': 256000}";

static void test_gemma(void) {
    lk_hparams hp;
    lk_error err;
    CHECK_OK(parse(GEMMA_2B, &hp, &err), &err);
    CHECK_EQ_STR(hp.arch, "gemma");
    CHECK_EQ_INT(hp.n_embd, 2048);
    CHECK_EQ_INT(hp.n_layer, 18);
    CHECK_EQ_INT(hp.n_head, 8);
    CHECK_EQ_INT(hp.n_head_kv, 1);
    CHECK_EQ_INT(hp.head_dim, 256);
    CHECK_EQ_INT(hp.n_ff, 16384);
    /* hidden_act "gelu" is not what Gemma runs: hidden_activation, absent,
     * defaults to the tanh approximation. */
    CHECK(hp.act == LK_ACT_GELU_TANH);
    CHECK(hp.embd_scale);
    CHECK(hp.norm_plus_one);
    CHECK(hp.tied_embeddings);
    CHECK_EQ_INT(hp.sliding_window, 0);
    CHECK_NEAR(hp.attn_softcap, 0, 0);
    CHECK_EQ_INT(hp.bos_id, 2);
    CHECK_EOS(hp, 1);
    CHECK_EQ_INT(hp.pad_id, 0);
    /* GemmaConfig: 16 kv heads when absent; hidden_activation honoured. */
    static const char BARE[] =
        "{'model_type': 'gemma', 'vocab_size': 256000, 'hidden_size': 3072,"
        " 'intermediate_size': 24576, 'num_hidden_layers': 28, 'num_attention_heads': 16,"
        " 'hidden_activation': 'gelu'}";
    CHECK_OK(parse(BARE, &hp, &err), &err);
    CHECK_EQ_INT(hp.n_head_kv, 16);
    CHECK_EQ_INT(hp.head_dim, 256);
    CHECK(hp.act == LK_ACT_GELU);
}

static const char PHI3_MINI_4K[] =
    "{'_name_or_path': 'Phi-3-mini-4k-instruct', 'architectures': ['Phi3ForCausalLM'],"
    " 'attention_dropout': 0.0, 'auto_map': {'AutoConfig': 'configuration_phi3.Phi3Config',"
    " 'AutoModelForCausalLM': 'modeling_phi3.Phi3ForCausalLM'}, 'bos_token_id': 1,"
    " 'embd_pdrop': 0.0, 'eos_token_id': 32000, 'hidden_act': 'silu', 'hidden_size': 3072,"
    " 'initializer_range': 0.02, 'intermediate_size': 8192, 'max_position_embeddings': 4096,"
    " 'model_type': 'phi3', 'num_attention_heads': 32, 'num_hidden_layers': 32,"
    " 'original_max_position_embeddings': 4096, 'pad_token_id': 32000, 'resid_pdrop': 0.0,"
    " 'rms_norm_eps': 1e-05, 'rope_scaling': null, 'rope_theta': 10000.0,"
    " 'sliding_window': 2047, 'tie_word_embeddings': false, 'torch_dtype': 'bfloat16',"
    " 'transformers_version': '4.40.2', 'use_cache': true, 'attention_bias': false,"
    " 'vocab_size': 32064}";

static void test_phi3(void) {
    lk_hparams hp;
    lk_error err;
    CHECK_OK(parse2(PHI3_MINI_4K,
                    "{'_from_model_config': true, 'bos_token_id': 1,"
                    " 'eos_token_id': [32000, 32001, 32007], 'pad_token_id': 32000}",
                    &hp, &err),
             &err);
    CHECK_EQ_STR(hp.arch, "phi3");
    CHECK_EQ_INT(hp.n_vocab, 32064);
    CHECK_EQ_INT(hp.n_embd, 3072);
    CHECK_EQ_INT(hp.n_layer, 32);
    CHECK_EQ_INT(hp.n_head, 32);
    CHECK_EQ_INT(hp.n_head_kv, 32); /* num_key_value_heads absent */
    CHECK_EQ_INT(hp.head_dim, 96);
    CHECK_EQ_INT(hp.n_rot, 96);
    CHECK_EQ_INT(hp.n_ff, 8192);
    CHECK_EQ_INT(hp.n_ctx_train, 4096);
    CHECK_NEAR(hp.norm_eps, 1e-5, 1e-12);
    CHECK_EQ_INT(hp.sliding_window, 2047);
    CHECK(!hp.tied_embeddings);
    CHECK(!hp.attn_qkv_bias);
    CHECK_EQ_INT(hp.bos_id, 1);
    CHECK_EQ_INT(hp.pad_id, 32000);
    CHECK_EOS(hp, 32000, 32001, 32007);

    /* Phi-4-mini style partial rotary: int(head_dim * 0.75). */
    static const char PARTIAL[] =
        "{'model_type': 'phi3', 'vocab_size': 200064, 'hidden_size': 3072,"
        " 'intermediate_size': 8192, 'num_hidden_layers': 32, 'num_attention_heads': 24,"
        " 'num_key_value_heads': 8, 'partial_rotary_factor': 0.75, 'bos_token_id': 199999,"
        " 'eos_token_id': 199999, 'pad_token_id': 199999}";
    CHECK_OK(parse(PARTIAL, &hp, &err), &err);
    CHECK_EQ_INT(hp.head_dim, 128);
    CHECK_EQ_INT(hp.n_rot, 96);
    /* Phi3Config defaults: eps 1e-5, 4096 positions, eos/pad 32000, no window. */
    static const char BARE[] =
        "{'model_type': 'phi3', 'vocab_size': 32064, 'hidden_size': 3072,"
        " 'intermediate_size': 8192, 'num_hidden_layers': 32, 'num_attention_heads': 32}";
    CHECK_OK(parse(BARE, &hp, &err), &err);
    CHECK_NEAR(hp.norm_eps, 1e-5, 1e-12);
    CHECK_EQ_INT(hp.n_ctx_train, 4096);
    CHECK_EQ_INT(hp.sliding_window, 0);
    CHECK_EQ_INT(hp.bos_id, 1);
    CHECK_EOS(hp, 32000);
    CHECK_EQ_INT(hp.pad_id, 32000);
    /* Phi-3-mini-128k's longrope is not supported, and says so. */
    static const char LONGROPE[] =
        "{'model_type': 'phi3', 'vocab_size': 32064, 'hidden_size': 3072,"
        " 'intermediate_size': 8192, 'num_hidden_layers': 32, 'num_attention_heads': 32,"
        " 'rope_scaling': {'long_factor': [1.0], 'short_factor': [1.0], 'type': 'longrope'}}";
    CHECK(parse(LONGROPE, &hp, &err) == LK_ERR_UNSUPPORTED);
    CHECK(contains(err.msg, "longrope"));
    CHECK(contains(err.msg, "m/config.json"));
}

static const char GPT2[] =
    "{'activation_function': 'gelu_new', 'architectures': ['GPT2LMHeadModel'],"
    " 'attn_pdrop': 0.1, 'bos_token_id': 50256, 'embd_pdrop': 0.1, 'eos_token_id': 50256,"
    " 'initializer_range': 0.02, 'layer_norm_epsilon': 1e-05, 'model_type': 'gpt2',"
    " 'n_ctx': 1024, 'n_embd': 768, 'n_head': 12, 'n_layer': 12, 'n_positions': 1024,"
    " 'resid_pdrop': 0.1, 'summary_activation': null, 'summary_first_dropout': 0.1,"
    " 'summary_proj_to_labels': true, 'summary_type': 'cls_index', 'summary_use_proj': true,"
    " 'task_specific_params': {'text-generation': {'do_sample': true, 'max_length': 50}},"
    " 'vocab_size': 50257}";

static void test_gpt2(void) {
    lk_hparams hp;
    lk_error err;
    CHECK_OK(parse(GPT2, &hp, &err), &err);
    CHECK_EQ_STR(hp.arch, "gpt2");
    CHECK_EQ_INT(hp.n_vocab, 50257);
    CHECK_EQ_INT(hp.n_embd, 768);
    CHECK_EQ_INT(hp.n_layer, 12);
    CHECK_EQ_INT(hp.n_head, 12);
    CHECK_EQ_INT(hp.n_head_kv, 12);
    CHECK_EQ_INT(hp.head_dim, 64);
    CHECK_EQ_INT(hp.n_ff, 3072); /* n_inner None -> 4 * n_embd */
    CHECK_EQ_INT(hp.n_ctx_train, 1024);
    CHECK(hp.norm == LK_NORM_LAYER);
    CHECK_NEAR(hp.norm_eps, 1e-5, 1e-12);
    CHECK(hp.act == LK_ACT_GELU_TANH);
    CHECK(hp.rope_layout == LK_ROPE_NONE);
    CHECK_EQ_INT(hp.n_rot, 0);
    CHECK(hp.tied_embeddings);
    CHECK(hp.attn_qkv_bias);
    CHECK_EQ_INT(hp.bos_id, 50256);
    CHECK_EOS(hp, 50256);
    CHECK_EQ_INT(hp.pad_id, -1);
    /* attribute_map aliases, n_inner given. */
    static const char ALIASES[] =
        "{'model_type': 'gpt2', 'vocab_size': 1000, 'hidden_size': 64, 'num_hidden_layers': 2,"
        " 'num_attention_heads': 4, 'max_position_embeddings': 128, 'n_inner': 100,"
        " 'bos_token_id': 0, 'eos_token_id': 0}";
    CHECK_OK(parse(ALIASES, &hp, &err), &err);
    CHECK_EQ_INT(hp.n_embd, 64);
    CHECK_EQ_INT(hp.n_layer, 2);
    CHECK_EQ_INT(hp.n_head, 4);
    CHECK_EQ_INT(hp.n_ctx_train, 128);
    CHECK_EQ_INT(hp.n_ff, 100);
    CHECK(parse("{'model_type': 'gpt2', 'vocab_size': 1000, 'n_embd': 64, 'n_layer': 2,"
                " 'n_head': 4, 'activation_function': 'relu'}",
                &hp, &err) == LK_ERR_UNSUPPORTED);
    CHECK(contains(err.msg, "activation_function"));
    CHECK(contains(err.msg, "relu"));
}

static const char BERT_BASE[] =
    "{'architectures': ['BertForMaskedLM'], 'attention_probs_dropout_prob': 0.1,"
    " 'gradient_checkpointing': false, 'hidden_act': 'gelu', 'hidden_dropout_prob': 0.1,"
    " 'hidden_size': 768, 'initializer_range': 0.02, 'intermediate_size': 3072,"
    " 'layer_norm_eps': 1e-12, 'max_position_embeddings': 512, 'model_type': 'bert',"
    " 'num_attention_heads': 12, 'num_hidden_layers': 12, 'pad_token_id': 0,"
    " 'position_embedding_type': 'absolute', 'transformers_version': '4.6.0.dev0',"
    " 'type_vocab_size': 2, 'use_cache': true, 'vocab_size': 30522}";

static void test_bert(void) {
    lk_hparams hp;
    lk_error err;
    CHECK_OK(parse(BERT_BASE, &hp, &err), &err);
    CHECK_EQ_STR(hp.arch, "bert");
    CHECK_EQ_INT(hp.n_vocab, 30522);
    CHECK_EQ_INT(hp.n_embd, 768);
    CHECK_EQ_INT(hp.n_layer, 12);
    CHECK_EQ_INT(hp.n_head, 12);
    CHECK_EQ_INT(hp.n_head_kv, 12);
    CHECK_EQ_INT(hp.head_dim, 64);
    CHECK_EQ_INT(hp.n_ff, 3072);
    CHECK_EQ_INT(hp.n_ctx_train, 512);
    CHECK(hp.norm == LK_NORM_LAYER);
    CHECK_NEAR(hp.norm_eps, 1e-12, 1e-19);
    CHECK(hp.act == LK_ACT_GELU);
    CHECK(hp.rope_layout == LK_ROPE_NONE);
    CHECK(hp.attn_qkv_bias);
    CHECK_EQ_INT(hp.pad_id, 0);
    CHECK_EQ_INT(hp.bos_id, -1);
    CHECK_EQ_INT(hp.n_eos, 0);
    CHECK(parse("{'model_type': 'bert', 'vocab_size': 1000, 'hidden_size': 64,"
                " 'intermediate_size': 128, 'num_hidden_layers': 2, 'num_attention_heads': 4,"
                " 'position_embedding_type': 'relative_key'}",
                &hp, &err) == LK_ERR_UNSUPPORTED);
    CHECK(contains(err.msg, "relative_key"));
}

/* ---------------------------------------------------------------- token ids, errors */

static void test_eos_forms(void) {
    lk_hparams hp;
    lk_error err;
    static const char BASE[] =
        "{'model_type': 'llama', 'vocab_size': 1000, 'hidden_size': 64,"
        " 'intermediate_size': 128, 'num_hidden_layers': 2, 'num_attention_heads': 4,";
    char buf[512];
    /* Duplicates dropped; more than LK_MAX_EOS distinct ids: first 8 kept. */
    snprintf(buf, sizeof buf, "%s 'eos_token_id': [5, 5, 1, 2, 3, 4, 6, 7, 8, 9, 10]}", BASE);
    CHECK_OK(parse(buf, &hp, &err), &err);
    CHECK_EOS(hp, 5, 1, 2, 3, 4, 6, 7, 8);
    /* null: no eos at all; config null but generation config gives one. */
    snprintf(buf, sizeof buf, "%s 'eos_token_id': null, 'bos_token_id': null}", BASE);
    CHECK_OK(parse(buf, &hp, &err), &err);
    CHECK_EQ_INT(hp.n_eos, 0);
    CHECK_EQ_INT(hp.bos_id, -1);
    CHECK_OK(parse2(buf, "{'eos_token_id': 7, 'bos_token_id': 3}", &hp, &err), &err);
    CHECK_EOS(hp, 7);
    CHECK_EQ_INT(hp.bos_id, 3);
    /* generation config null leaves config's value. */
    snprintf(buf, sizeof buf, "%s 'eos_token_id': [9, 8]}", BASE);
    CHECK_OK(parse2(buf, "{'eos_token_id': null}", &hp, &err), &err);
    CHECK_EOS(hp, 9, 8);
    /* LlamaConfig defaults bos 1, eos 2; old converted configs say pad -1. */
    snprintf(buf, sizeof buf, "%s 'pad_token_id': -1}", BASE);
    CHECK_OK(parse(buf, &hp, &err), &err);
    CHECK_EQ_INT(hp.bos_id, 1);
    CHECK_EOS(hp, 2);
    CHECK_EQ_INT(hp.pad_id, -1);
    /* Out-of-vocabulary ids and wrong types. */
    snprintf(buf, sizeof buf, "%s 'eos_token_id': [2, 1000]}", BASE);
    CHECK(parse(buf, &hp, &err) == LK_ERR_RANGE);
    CHECK(contains(err.msg, "eos_token_id"));
    snprintf(buf, sizeof buf, "%s 'eos_token_id': '2'}", BASE);
    CHECK(parse(buf, &hp, &err) == LK_ERR_FORMAT);
    CHECK(contains(err.msg, "eos_token_id"));
    snprintf(buf, sizeof buf, "%s 'eos_token_id': [2, 'x']}", BASE);
    CHECK(parse(buf, &hp, &err) == LK_ERR_FORMAT);
    snprintf(buf, sizeof buf, "%s 'bos_token_id': [1]}", BASE);
    CHECK(parse(buf, &hp, &err) == LK_ERR_FORMAT);
    CHECK(contains(err.msg, "bos_token_id"));
    CHECK(parse2(TINYLLAMA, "{'eos_token_id': 1.5}", &hp, &err) == LK_ERR_FORMAT);
    CHECK(contains(err.msg, "m/generation_config.json"));
    CHECK(parse2(TINYLLAMA, "[1, 2]", &hp, &err) == LK_ERR_FORMAT);
    CHECK(contains(err.msg, "m/generation_config.json"));
}

static void test_errors(void) {
    lk_hparams hp;
    lk_error err;
    memset(&hp, 0x5a, sizeof hp);
    lk_hparams before = hp;

    CHECK(parse("{'model_type': 'falcon', 'vocab_size': 10}", &hp, &err) == LK_ERR_UNSUPPORTED);
    CHECK(contains(err.msg, "falcon"));
    CHECK(contains(err.msg, "llama, mistral, qwen2, qwen3, gemma, gemma2, phi3, gpt2, bert"));
    CHECK(memcmp(&hp, &before, sizeof hp) == 0); /* untouched on failure */

    CHECK(parse("{'vocab_size': 10}", &hp, &err) == LK_ERR_FORMAT);
    CHECK(contains(err.msg, "model_type"));
    CHECK(contains(err.msg, "m/config.json"));
    CHECK(parse("{'model_type': 7}", &hp, &err) == LK_ERR_FORMAT);
    CHECK(parse("not json", &hp, &err) == LK_ERR_FORMAT);
    CHECK(parse("", &hp, &err) == LK_ERR_FORMAT);
    CHECK(parse("['model_type']", &hp, &err) == LK_ERR_FORMAT);
    CHECK(parse("{'model_type': 'llama'}", &hp, &err) == LK_ERR_FORMAT);
    CHECK(contains(err.msg, "vocab_size"));

    static const char *const required[] = {"vocab_size", "hidden_size", "intermediate_size",
                                           "num_hidden_layers", "num_attention_heads"};
    for (size_t k = 0; k < sizeof required / sizeof required[0]; k++) {
        /* The llama config without one required key, then with it null, then a string. */
        char buf[512];
        int n = snprintf(buf, sizeof buf, "{'model_type': 'llama'");
        static const char *const vals[] = {"1000", "64", "128", "2", "4"};
        for (size_t j = 0; j < sizeof required / sizeof required[0]; j++)
            if (j != k) n += snprintf(buf + n, sizeof buf - n, ", '%s': %s", required[j], vals[j]);
        snprintf(buf + n, sizeof buf - n, "}");
        CHECK(parse(buf, &hp, &err) == LK_ERR_FORMAT);
        CHECK_MSG(contains(err.msg, required[k]), "%s", err.msg);
        snprintf(buf + n, sizeof buf - n, ", '%s': null}", required[k]);
        CHECK(parse(buf, &hp, &err) == LK_ERR_FORMAT);
        CHECK_MSG(contains(err.msg, required[k]), "%s", err.msg);
        snprintf(buf + n, sizeof buf - n, ", '%s': '64'}", required[k]);
        CHECK(parse(buf, &hp, &err) == LK_ERR_FORMAT);
        CHECK_MSG(contains(err.msg, required[k]) && contains(err.msg, "a string"), "%s", err.msg);
    }

    static const char BASE[] =
        "{'model_type': 'llama', 'vocab_size': 1000, 'hidden_size': 64,"
        " 'intermediate_size': 128, 'num_hidden_layers': 2, 'num_attention_heads': 4,";
    struct {
        const char *tail;
        lk_status want;
        const char *mention;
    } cases[] = {
        {"'rms_norm_eps': '1e-5'}", LK_ERR_FORMAT, "rms_norm_eps"},
        {"'rms_norm_eps': 0}", LK_ERR_RANGE, "norm_eps"},
        {"'tie_word_embeddings': 1}", LK_ERR_FORMAT, "tie_word_embeddings"},
        {"'num_key_value_heads': 3}", LK_ERR_RANGE, "divide"},
        {"'num_key_value_heads': 0}", LK_ERR_RANGE, "n_head_kv"},
        {"'num_key_value_heads': 2.5}", LK_ERR_FORMAT, "num_key_value_heads"},
        {"'num_key_value_heads': 1e12}", LK_ERR_FORMAT, "num_key_value_heads"},
        {"'hidden_act': 'relu'}", LK_ERR_UNSUPPORTED, "relu"},
        {"'hidden_act': 5}", LK_ERR_FORMAT, "hidden_act"},
        {"'rope_theta': -1}", LK_ERR_RANGE, "rope_theta"},
        {"'rope_theta': null}", LK_ERR_FORMAT, "rope_theta"},
        {"'rope_scaling': {'type': 'dynamic', 'factor': 2.0}}", LK_ERR_UNSUPPORTED, "dynamic"},
        {"'rope_scaling': {'rope_type': 'yarn', 'factor': 4.0}}", LK_ERR_UNSUPPORTED, "yarn"},
        {"'rope_scaling': {'rope_type': 'linear'}}", LK_ERR_FORMAT, "factor"},
        {"'rope_scaling': {'rope_type': 'linear', 'factor': 0}}", LK_ERR_RANGE, "rope_factor"},
        {"'rope_scaling': {'rope_type': 'llama3', 'factor': 8.0, 'low_freq_factor': 1.0,"
         " 'high_freq_factor': 4.0}}",
         LK_ERR_FORMAT, "original_max_position_embeddings"},
        {"'rope_scaling': {'rope_type': 'llama3', 'factor': 8.0, 'low_freq_factor': 4.0,"
         " 'high_freq_factor': 4.0, 'original_max_position_embeddings': 8192}}",
         LK_ERR_RANGE, "high_freq_factor"},
        {"'rope_scaling': 'linear'}", LK_ERR_FORMAT, "rope_scaling"},
        {"'head_dim': 7}", LK_ERR_RANGE, "rotary"},
        {"'max_position_embeddings': 0}", LK_ERR_RANGE, "n_ctx_train"},
        {"'hidden_size': -64}", LK_ERR_RANGE, "hidden_size"},
        {"'hidden_size': 66}", LK_ERR_RANGE, "multiple"},
        {"'num_hidden_layers': 100000}", LK_ERR_RANGE, "n_layer"},
        {"'bos_token_id': -5}", LK_ERR_RANGE, "bos_token_id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[1024];
        snprintf(buf, sizeof buf, "%s %s", BASE, cases[i].tail);
        lk_status st = parse(buf, &hp, &err);
        CHECK_MSG(st == cases[i].want, "case %zu (%s): got %s: %s", i, cases[i].tail,
                  lk_status_name(st), err.msg);
        CHECK_MSG(contains(err.msg, cases[i].mention), "case %zu: \"%s\" lacks \"%s\"", i,
                  err.msg, cases[i].mention);
    }

    /* Linear scaling passes; duplicate keys: the last one wins (Python json). */
    char buf[512];
    snprintf(buf, sizeof buf,
             "%s 'rope_scaling': {'type': 'linear', 'factor': 4.0}, 'hidden_size': 32,"
             " 'hidden_size': 128}",
             BASE);
    CHECK_OK(parse(buf, &hp, &err), &err);
    CHECK(hp.rope_scaling == LK_ROPE_SCALING_LINEAR);
    CHECK_NEAR(hp.rope_factor, 4.0, 0);
    CHECK_EQ_INT(hp.n_embd, 128);
    CHECK_EQ_INT(hp.head_dim, 32);

    /* Argument errors. */
    lk_json_doc doc = {"{}", 2, "x"};
    CHECK(lk_hf_config_parse(NULL, NULL, &hp, &err) == LK_ERR_ARG);
    CHECK(lk_hf_config_parse(&doc, NULL, NULL, &err) == LK_ERR_ARG);
    /* Not NUL-terminated input: only len bytes are read. */
    char raw[] = {'{', '}', 'x'};
    lk_json_doc rd = {raw, 2, "raw"};
    CHECK(lk_hf_config_parse(&rd, NULL, &hp, &err) == LK_ERR_FORMAT);
    CHECK(contains(err.msg, "model_type"));
}

static void test_load_dir(void) {
    lk_hparams hp;
    lk_error err;
    const char *dir = lk_test_tmpdir();
    char path[1024];
    CHECK(lk_hf_config_load(dir, &hp, &err) == LK_ERR_NOT_FOUND); /* no config.json yet */
    CHECK(contains(err.msg, "config.json"));
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    for (const char *p = QWEN25_05B; *p; p++) fputc(*p == '\'' ? '"' : *p, f);
    fclose(f);
    CHECK_OK(lk_hf_config_load(dir, &hp, &err), &err);
    CHECK_EOS(hp, 151645);
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    for (const char *p = QWEN25_05B_GEN; *p; p++) fputc(*p == '\'' ? '"' : *p, f);
    fclose(f);
    CHECK_OK(lk_hf_config_load(dir, &hp, &err), &err);
    CHECK_EOS(hp, 151645, 151643);
    f = fopen(path, "w");
    if (f) {
        fputs("{\"eos_token_id\": \"x\"}", f);
        fclose(f);
    }
    CHECK(lk_hf_config_load(dir, &hp, &err) == LK_ERR_FORMAT);
    CHECK(contains(err.msg, "generation_config.json"));
    remove(path);
    snprintf(path, sizeof path, "%s/config.json", dir);
    remove(path);
}

/* ---------------------------------------------------------------- tensor names */

typedef struct {
    const char *hf;
    const char *internal; /* NULL: ignored */
    unsigned transform;
} name_case;

/* Every case maps HF -> internal; the MAPPED ones whose HF name is the
 * canonical spelling (canonical = 1) also map back exactly. */
static void check_names(const char *arch, const name_case *cases, size_t n, const char *prefix) {
    lk_error err;
    for (size_t i = 0; i < n; i++) {
        lk_tensor_name t;
        CHECK_OK(lk_tensor_name_from_hf(arch, cases[i].hf, &t, &err), &err);
        if (!cases[i].internal) {
            CHECK_MSG(t.kind == LK_TNAME_IGNORED, "%s %s: kind %d", arch, cases[i].hf, t.kind);
            continue;
        }
        CHECK_MSG(t.kind == LK_TNAME_MAPPED, "%s %s: kind %d", arch, cases[i].hf, t.kind);
        CHECK_MSG(strcmp(t.name, cases[i].internal) == 0, "%s %s -> %s, want %s", arch,
                  cases[i].hf, t.name, cases[i].internal);
        CHECK_EQ_INT(t.transform, cases[i].transform);
        /* The reverse map writes `prefix` + name for everything but lm_head. */
        lk_tensor_name back;
        CHECK_OK(lk_tensor_name_to_hf(arch, cases[i].internal, &back, &err), &err);
        CHECK(back.kind == LK_TNAME_MAPPED);
        CHECK_EQ_INT(back.transform, cases[i].transform);
        char want[256];
        const char *bare = cases[i].hf;
        static const char *const prefixes[] = {"model.", "transformer.", "bert."};
        for (size_t p = 0; p < 3; p++)
            if (strncmp(bare, prefixes[p], strlen(prefixes[p])) == 0) bare += strlen(prefixes[p]);
        snprintf(want, sizeof want, "%s%s", strncmp(bare, "lm_head", 7) == 0 ? "" : prefix, bare);
        /* .gamma/.beta come back as .weight/.bias */
        char *g = strstr(want, ".gamma");
        if (g) strcpy(g, ".weight");
        char *b = strstr(want, ".beta");
        if (b) strcpy(b, ".bias");
        CHECK_MSG(strcmp(back.name, want) == 0, "%s %s -> %s, want %s", arch, cases[i].internal,
                  back.name, want);
    }
}

static void check_unknown(const char *arch, const char *hf) {
    lk_error err;
    lk_tensor_name t;
    CHECK_OK(lk_tensor_name_from_hf(arch, hf, &t, &err), &err);
    CHECK_MSG(t.kind == LK_TNAME_UNKNOWN, "%s %s: kind %d (%s)", arch, hf, t.kind, t.name);
    CHECK_EQ_STR(t.name, "");
}

static const name_case LLAMA_NAMES[] = {
    {"model.embed_tokens.weight", "token_embd.weight", 0},
    {"model.norm.weight", "output_norm.weight", 0},
    {"lm_head.weight", "output.weight", 0},
    {"model.layers.0.input_layernorm.weight", "blk.0.attn_norm.weight", 0},
    {"model.layers.0.self_attn.q_proj.weight", "blk.0.attn_q.weight", 0},
    {"model.layers.1.self_attn.k_proj.weight", "blk.1.attn_k.weight", 0},
    {"model.layers.21.self_attn.v_proj.weight", "blk.21.attn_v.weight", 0},
    {"model.layers.21.self_attn.o_proj.weight", "blk.21.attn_output.weight", 0},
    {"model.layers.3.post_attention_layernorm.weight", "blk.3.ffn_norm.weight", 0},
    {"model.layers.3.mlp.gate_proj.weight", "blk.3.ffn_gate.weight", 0},
    {"model.layers.3.mlp.up_proj.weight", "blk.3.ffn_up.weight", 0},
    {"model.layers.3.mlp.down_proj.weight", "blk.3.ffn_down.weight", 0},
    {"model.layers.10.self_attn.rotary_emb.inv_freq", NULL, 0},
    /* LlamaModel (no head) saves without the prefix. */
    {"layers.4.self_attn.q_proj.weight", "blk.4.attn_q.weight", 0},
    {"embed_tokens.weight", "token_embd.weight", 0},
};

static const name_case QWEN2_NAMES[] = {
    {"model.layers.0.self_attn.q_proj.bias", "blk.0.attn_q.bias", 0},
    {"model.layers.0.self_attn.k_proj.bias", "blk.0.attn_k.bias", 0},
    {"model.layers.0.self_attn.v_proj.bias", "blk.0.attn_v.bias", 0},
    {"model.layers.0.self_attn.q_proj.weight", "blk.0.attn_q.weight", 0},
    {"model.layers.23.mlp.down_proj.weight", "blk.23.ffn_down.weight", 0},
    {"model.embed_tokens.weight", "token_embd.weight", 0},
};

static const name_case QWEN3_NAMES[] = {
    {"model.layers.2.self_attn.q_norm.weight", "blk.2.attn_q_norm.weight", 0},
    {"model.layers.2.self_attn.k_norm.weight", "blk.2.attn_k_norm.weight", 0},
    {"model.layers.2.post_attention_layernorm.weight", "blk.2.ffn_norm.weight", 0},
    {"model.layers.27.mlp.gate_proj.weight", "blk.27.ffn_gate.weight", 0},
};

static const name_case GEMMA_NAMES[] = {
    {"model.embed_tokens.weight", "token_embd.weight", 0},
    {"model.layers.0.input_layernorm.weight", "blk.0.attn_norm.weight", 0},
    {"model.layers.0.post_attention_layernorm.weight", "blk.0.ffn_norm.weight", 0},
    {"model.norm.weight", "output_norm.weight", 0},
};

static const name_case GEMMA2_NAMES[] = {
    {"model.layers.5.input_layernorm.weight", "blk.5.attn_norm.weight", 0},
    {"model.layers.5.post_attention_layernorm.weight", "blk.5.post_attention_norm.weight", 0},
    {"model.layers.5.pre_feedforward_layernorm.weight", "blk.5.ffn_norm.weight", 0},
    {"model.layers.5.post_feedforward_layernorm.weight", "blk.5.post_ffw_norm.weight", 0},
    {"model.layers.5.self_attn.q_proj.weight", "blk.5.attn_q.weight", 0},
    {"model.layers.5.mlp.gate_proj.weight", "blk.5.ffn_gate.weight", 0},
};

static const name_case PHI3_NAMES[] = {
    {"model.layers.0.self_attn.qkv_proj.weight", "blk.0.attn_qkv.weight", 0},
    {"model.layers.0.self_attn.o_proj.weight", "blk.0.attn_output.weight", 0},
    {"model.layers.0.mlp.gate_up_proj.weight", "blk.0.ffn_up.weight", 0},
    {"model.layers.0.mlp.down_proj.weight", "blk.0.ffn_down.weight", 0},
    {"model.layers.31.post_attention_layernorm.weight", "blk.31.ffn_norm.weight", 0},
    {"lm_head.weight", "output.weight", 0},
};

static const name_case GPT2_NAMES[] = {
    {"wte.weight", "token_embd.weight", 0},
    {"wpe.weight", "position_embd.weight", 0},
    {"ln_f.weight", "output_norm.weight", 0},
    {"ln_f.bias", "output_norm.bias", 0},
    {"h.0.ln_1.weight", "blk.0.attn_norm.weight", 0},
    {"h.0.ln_1.bias", "blk.0.attn_norm.bias", 0},
    {"h.0.attn.c_attn.weight", "blk.0.attn_qkv.weight", LK_TNAME_TRANSPOSE},
    {"h.0.attn.c_attn.bias", "blk.0.attn_qkv.bias", 0},
    {"h.11.attn.c_proj.weight", "blk.11.attn_output.weight", LK_TNAME_TRANSPOSE},
    {"h.11.attn.c_proj.bias", "blk.11.attn_output.bias", 0},
    {"h.11.ln_2.weight", "blk.11.ffn_norm.weight", 0},
    {"h.11.mlp.c_fc.weight", "blk.11.ffn_up.weight", LK_TNAME_TRANSPOSE},
    {"h.11.mlp.c_fc.bias", "blk.11.ffn_up.bias", 0},
    {"h.11.mlp.c_proj.weight", "blk.11.ffn_down.weight", LK_TNAME_TRANSPOSE},
    {"h.11.mlp.c_proj.bias", "blk.11.ffn_down.bias", 0},
    {"h.3.attn.bias", NULL, 0},
    {"h.3.attn.masked_bias", NULL, 0},
    /* GPT2LMHeadModel.save_pretrained writes the transformer. prefix. */
    {"transformer.h.2.attn.c_attn.weight", "blk.2.attn_qkv.weight", LK_TNAME_TRANSPOSE},
    {"transformer.wte.weight", "token_embd.weight", 0},
    {"transformer.h.2.attn.bias", NULL, 0},
    {"lm_head.weight", "output.weight", 0},
};

static const name_case BERT_NAMES[] = {
    {"embeddings.word_embeddings.weight", "token_embd.weight", 0},
    {"embeddings.token_type_embeddings.weight", "token_types.weight", 0},
    {"embeddings.position_embeddings.weight", "position_embd.weight", 0},
    {"embeddings.LayerNorm.weight", "token_embd_norm.weight", 0},
    {"embeddings.LayerNorm.bias", "token_embd_norm.bias", 0},
    {"encoder.layer.0.attention.self.query.weight", "blk.0.attn_q.weight", 0},
    {"encoder.layer.0.attention.self.query.bias", "blk.0.attn_q.bias", 0},
    {"encoder.layer.0.attention.self.key.weight", "blk.0.attn_k.weight", 0},
    {"encoder.layer.0.attention.self.value.bias", "blk.0.attn_v.bias", 0},
    {"encoder.layer.0.attention.output.dense.weight", "blk.0.attn_output.weight", 0},
    {"encoder.layer.0.attention.output.LayerNorm.weight", "blk.0.attn_output_norm.weight", 0},
    {"encoder.layer.11.intermediate.dense.weight", "blk.11.ffn_up.weight", 0},
    {"encoder.layer.11.output.dense.bias", "blk.11.ffn_down.bias", 0},
    {"encoder.layer.11.output.LayerNorm.bias", "blk.11.layer_output_norm.bias", 0},
    /* bert-base-uncased (BertForMaskedLM) layout and its old LayerNorm names. */
    {"bert.embeddings.LayerNorm.gamma", "token_embd_norm.weight", 0},
    {"bert.encoder.layer.3.output.LayerNorm.beta", "blk.3.layer_output_norm.bias", 0},
    {"bert.embeddings.word_embeddings.weight", "token_embd.weight", 0},
    {"embeddings.position_ids", NULL, 0},
    {"bert.embeddings.position_ids", NULL, 0},
    {"pooler.dense.weight", NULL, 0},
    {"bert.pooler.dense.bias", NULL, 0},
    {"cls.predictions.bias", NULL, 0},
    {"cls.predictions.transform.dense.weight", NULL, 0},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_names(void) {
    static const char *const llama_like[] = {"llama", "mistral", "qwen2", "qwen3",
                                             "gemma", "gemma2"};
    for (size_t i = 0; i < N(llama_like); i++) {
        if (strcmp(llama_like[i], "gemma2") != 0)
            check_names(llama_like[i], LLAMA_NAMES, N(LLAMA_NAMES), "model.");
        check_unknown(llama_like[i], "model.layers.0.self_attn.qkv_proj.weight");
        check_unknown(llama_like[i], "model.layers.0.mlp.gate_up_proj.weight");
        check_unknown(llama_like[i], "wte.weight");
    }
    check_names("qwen2", QWEN2_NAMES, N(QWEN2_NAMES), "model.");
    check_names("qwen3", QWEN3_NAMES, N(QWEN3_NAMES), "model.");
    check_names("gemma", GEMMA_NAMES, N(GEMMA_NAMES), "model.");
    check_names("gemma2", GEMMA2_NAMES, N(GEMMA2_NAMES), "model.");
    check_names("phi3", PHI3_NAMES, N(PHI3_NAMES), "model.");
    check_names("gpt2", GPT2_NAMES, N(GPT2_NAMES), "");
    check_names("bert", BERT_NAMES, N(BERT_NAMES), "");

    /* Architecture-specific names are unknown elsewhere. */
    check_unknown("llama", "model.layers.0.self_attn.q_norm.weight");
    check_unknown("gemma", "model.layers.0.pre_feedforward_layernorm.weight");
    check_unknown("phi3", "model.layers.0.self_attn.q_proj.weight");
    check_unknown("phi3", "model.layers.0.mlp.up_proj.weight");
    check_unknown("gpt2", "model.embed_tokens.weight");
    check_unknown("bert", "h.0.attn.c_attn.weight");
    /* Malformed or unusual names. */
    check_unknown("llama", "model.layers.x.self_attn.q_proj.weight");
    check_unknown("llama", "model.layers.01.self_attn.q_proj.weight");
    check_unknown("llama", "model.layers.123456.self_attn.q_proj.weight");
    check_unknown("llama", "model.layers.-1.self_attn.q_proj.weight");
    check_unknown("llama", "model.layers.0.self_attn.q_proj");
    check_unknown("llama", "model.layers.0.self_attn.q_proj.weight2");
    check_unknown("llama", "model.lm_head.weight");
    check_unknown("llama", "");
    check_unknown("llama", "model.");
    check_unknown("gpt2", "h.0.attn.weight");
    check_unknown("bert", "bert.cls.predictions.bias");

    /* The reverse map knows only this architecture's internal names. */
    lk_error err;
    lk_tensor_name t;
    CHECK_OK(lk_tensor_name_to_hf("llama", "blk.0.attn_qkv.weight", &t, &err), &err);
    CHECK(t.kind == LK_TNAME_UNKNOWN);
    CHECK_OK(lk_tensor_name_to_hf("gpt2", "blk.0.attn_q.weight", &t, &err), &err);
    CHECK(t.kind == LK_TNAME_UNKNOWN);
    CHECK_OK(lk_tensor_name_to_hf("llama", "blk.0.attn_q.gamma", &t, &err), &err);
    CHECK(t.kind == LK_TNAME_UNKNOWN);
    CHECK_OK(lk_tensor_name_to_hf("gpt2", "output.weight", &t, &err), &err);
    CHECK_EQ_STR(t.name, "lm_head.weight");
    CHECK_OK(lk_tensor_name_to_hf("qwen2", "blk.99999.attn_q.bias", &t, &err), &err);
    CHECK_EQ_STR(t.name, "model.layers.99999.self_attn.q_proj.bias");

    CHECK(lk_tensor_name_from_hf("falcon", "x", &t, &err) == LK_ERR_UNSUPPORTED);
    CHECK(contains(err.msg, "falcon"));
    CHECK(lk_tensor_name_to_hf("falcon", "x", &t, &err) == LK_ERR_UNSUPPORTED);
    CHECK(lk_tensor_name_from_hf(NULL, "x", &t, &err) == LK_ERR_ARG);

    /* A name longer than any buffer is simply unknown. */
    char longname[600];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    memcpy(longname, "model.layers.1.", 15);
    check_unknown("llama", longname);
}

/* ---------------------------------------------------------------- GGUF metadata */

static void test_gguf_fixtures(void) {
    const char *path = lk_test_fixture("gguf/stories260K.gguf");
    if (!path) {
        fprintf(stderr, "SKIP part: fixtures/gguf/stories260K.gguf not found\n");
        return;
    }
    lk_gguf *g;
    lk_error err;
    lk_hparams hp;
    CHECK_OK(lk_gguf_open(path, &g, &err), &err);
    if (!g) return;
    CHECK_OK(lk_gguf_hparams(g, path, &hp, &err), &err);
    lk_gguf_close(g);
    CHECK_EQ_STR(hp.arch, "llama");
    CHECK_EQ_INT(hp.n_vocab, 512);
    CHECK_EQ_INT(hp.n_embd, 64);
    CHECK_EQ_INT(hp.n_layer, 5);
    CHECK_EQ_INT(hp.n_head, 8);
    CHECK_EQ_INT(hp.n_head_kv, 4);
    CHECK_EQ_INT(hp.head_dim, 8);
    CHECK_EQ_INT(hp.n_ff, 172);
    CHECK_EQ_INT(hp.n_ctx_train, 2048);
    CHECK(hp.norm == LK_NORM_RMS);
    CHECK_NEAR(hp.norm_eps, 1e-5, 1e-12);
    CHECK(hp.act == LK_ACT_SILU);
    CHECK(hp.rope_layout == LK_ROPE_INTERLEAVED); /* llama.cpp LLAMA_ROPE_TYPE_NORM */
    CHECK_NEAR(hp.rope_theta, 10000.0, 0);
    CHECK_EQ_INT(hp.n_rot, 8);
    CHECK(hp.rope_scaling == LK_ROPE_SCALING_NONE);
    CHECK(!hp.tied_embeddings); /* the file has output.weight */
    CHECK(!hp.attn_qkv_bias);
    CHECK(!hp.qk_norm);
    CHECK(!hp.embd_scale);
    CHECK(!hp.norm_plus_one);
    CHECK_EQ_INT(hp.bos_id, 1);
    CHECK_EOS(hp, 2);
    CHECK_EQ_INT(hp.pad_id, -1); /* stored as 0xFFFFFFFF: none */

    path = lk_test_fixture("gguf/llama-2-tiny-random.gguf");
    if (!path) return;
    CHECK_OK(lk_gguf_open(path, &g, &err), &err);
    if (!g) return;
    CHECK_OK(lk_gguf_hparams(g, path, &hp, &err), &err);
    lk_gguf_close(g);
    CHECK_EQ_STR(hp.arch, "llama");
    CHECK_EQ_INT(hp.n_vocab, 32000);
    CHECK_EQ_INT(hp.n_embd, 8);
    CHECK_EQ_INT(hp.n_layer, 1);
    CHECK_EQ_INT(hp.n_head, 2);
    CHECK_EQ_INT(hp.n_head_kv, 2);
    CHECK_EQ_INT(hp.head_dim, 4);
    CHECK_EQ_INT(hp.n_ff, 32);
    CHECK_EQ_INT(hp.n_ctx_train, 4096);
    CHECK_EQ_INT(hp.n_rot, 4);
    CHECK(!hp.tied_embeddings);
    CHECK_EQ_INT(hp.bos_id, 1);
    CHECK_EOS(hp, 2);
}

/* A synthetic GGUF: metadata entries, a token list of n_vocab tokens (when
 * n_vocab > 0), token_embd.weight with emb_rows rows (when > 0) and
 * optionally output.weight and blk.0.attn_q.bias. */
typedef struct {
    const char *key;
    char type; /* 'u' u32, 'i' i32, 'f' f32, 's' string, 'a' u32 array of len 2 (num, num2) */
    double num, num2;
    const char *str;
} kv;

static const char *extra_tensor; /* one more 1-D tensor to add, or NULL */

static lk_status gguf_from(const kv *kvs, size_t n, int n_vocab, int emb_rows, bool output,
                           bool q_bias, lk_hparams *hp, lk_error *err) {
    static float zeros[8 * 64];
    lk_gguf_writer *w = lk_gguf_writer_new(3, 0);
    for (size_t i = 0; i < n; i++) {
        const kv *e = &kvs[i];
        if (e->type == 'u') lk_gguf_writer_set_u32(w, e->key, (uint32_t)e->num);
        if (e->type == 'i') lk_gguf_writer_set_i32(w, e->key, (int32_t)e->num);
        if (e->type == 'f') lk_gguf_writer_set_f32(w, e->key, (float)e->num);
        if (e->type == 's') lk_gguf_writer_set_str(w, e->key, e->str);
        if (e->type == 'a') {
            uint32_t v[2] = {(uint32_t)e->num, (uint32_t)e->num2};
            lk_gguf_writer_set_num_array(w, e->key, LK_GGUF_UINT32, v, 2);
        }
    }
    char names[64][8];
    const char *ptrs[64];
    for (int i = 0; i < n_vocab && i < 64; i++) {
        snprintf(names[i], sizeof names[i], "t%d", i);
        ptrs[i] = names[i];
    }
    if (n_vocab > 0) lk_gguf_writer_set_str_array(w, "tokenizer.ggml.tokens", ptrs, n_vocab);
    int64_t ne[2] = {8, emb_rows};
    if (emb_rows > 0)
        lk_gguf_writer_add_tensor(w, "token_embd.weight", LK_DTYPE_F32, 2, ne,
                                  zeros, (uint64_t)(8 * emb_rows * 4), err);
    if (output)
        lk_gguf_writer_add_tensor(w, "output.weight", LK_DTYPE_F32, 2, ne, zeros,
                                  (uint64_t)(8 * emb_rows * 4), err);
    int64_t bias_ne[1] = {8};
    if (q_bias) lk_gguf_writer_add_tensor(w, "blk.0.attn_q.bias", LK_DTYPE_F32, 1, bias_ne,
                                          zeros, 32, err);
    if (extra_tensor)
        lk_gguf_writer_add_tensor(w, extra_tensor, LK_DTYPE_F32, 1, bias_ne, zeros, 32, err);
    char path[1024];
    snprintf(path, sizeof path, "%s/synthetic.gguf", lk_test_tmpdir());
    lk_status st = lk_gguf_writer_write(w, path, err);
    lk_gguf_writer_free(w);
    if (st) return st;
    lk_gguf *g;
    if ((st = lk_gguf_open(path, &g, err))) return st;
    lk_error_clear(err);
    st = lk_gguf_hparams(g, "synthetic.gguf", hp, err);
    lk_gguf_close(g);
    remove(path);
    return st;
}

#define GGUF(kvs, n_vocab, emb_rows, output, q_bias, hp, err)                                \
    gguf_from(kvs, sizeof kvs / sizeof kvs[0], n_vocab, emb_rows, output, q_bias, hp, err)

static void test_gguf_synthetic(void) {
    lk_hparams hp;
    lk_error err;

    const kv gemma2[] = {
        {"general.architecture", 's', 0, 0, "gemma2"},
        {"gemma2.context_length", 'u', 8192, 0, NULL},
        {"gemma2.embedding_length", 'u', 16, 0, NULL},
        {"gemma2.block_count", 'u', 2, 0, NULL},
        {"gemma2.feed_forward_length", 'u', 32, 0, NULL},
        {"gemma2.attention.head_count", 'u', 2, 0, NULL},
        {"gemma2.attention.head_count_kv", 'u', 1, 0, NULL},
        {"gemma2.attention.key_length", 'u', 12, 0, NULL},
        {"gemma2.attention.value_length", 'u', 12, 0, NULL},
        {"gemma2.attention.layer_norm_rms_epsilon", 'f', 1e-6, 0, NULL},
        {"gemma2.attn_logit_softcapping", 'f', 50.0, 0, NULL},
        {"gemma2.final_logit_softcapping", 'f', 30.0, 0, NULL},
        {"gemma2.attention.sliding_window", 'u', 4096, 0, NULL},
        {"tokenizer.ggml.bos_token_id", 'u', 2, 0, NULL},
        {"tokenizer.ggml.eos_token_id", 'u', 1, 0, NULL},
        {"tokenizer.ggml.eot_token_id", 'u', 7, 0, NULL},
        {"tokenizer.ggml.padding_token_id", 'u', 0, 0, NULL},
    };
    CHECK_OK(GGUF(gemma2, 16, 16, false, false, &hp, &err), &err);
    CHECK_EQ_STR(hp.arch, "gemma2");
    CHECK_EQ_INT(hp.n_vocab, 16);
    CHECK_EQ_INT(hp.head_dim, 12);
    CHECK_EQ_INT(hp.n_rot, 12);
    CHECK_EQ_INT(hp.n_head_kv, 1);
    CHECK(hp.rope_layout == LK_ROPE_HALF);
    CHECK(hp.act == LK_ACT_GELU_TANH);
    CHECK(hp.embd_scale);
    CHECK(!hp.norm_plus_one); /* llama.cpp's converter stored 1 + w */
    CHECK(hp.tied_embeddings);
    CHECK_NEAR(hp.attn_softcap, 50, 0);
    CHECK_NEAR(hp.final_softcap, 30, 0);
    CHECK_EQ_INT(hp.sliding_window, 4096);
    CHECK_NEAR(hp.query_pre_attn_scalar, 12, 0);
    CHECK_EQ_INT(hp.bos_id, 2);
    CHECK_EOS(hp, 1, 7);
    CHECK_EQ_INT(hp.pad_id, 0);
    /* Gemma 2 27B (46 layers): queries scaled by n_embd / n_head. */
    kv gemma2_27b[sizeof gemma2 / sizeof gemma2[0]];
    memcpy(gemma2_27b, gemma2, sizeof gemma2);
    gemma2_27b[3].num = 46;
    CHECK_OK(GGUF(gemma2_27b, 16, 16, false, false, &hp, &err), &err);
    CHECK_NEAR(hp.query_pre_attn_scalar, 8, 0);

    const kv qwen2[] = {
        {"general.architecture", 's', 0, 0, "qwen2"},
        {"qwen2.context_length", 'u', 32768, 0, NULL},
        {"qwen2.embedding_length", 'u', 16, 0, NULL},
        {"qwen2.block_count", 'u', 2, 0, NULL},
        {"qwen2.feed_forward_length", 'a', 48, 48, NULL},
        {"qwen2.attention.head_count", 'u', 4, 0, NULL},
        {"qwen2.attention.head_count_kv", 'a', 2, 2, NULL},
        {"qwen2.attention.layer_norm_rms_epsilon", 'f', 1e-6, 0, NULL},
        {"qwen2.rope.freq_base", 'f', 1000000.0, 0, NULL},
        {"tokenizer.ggml.bos_token_id", 'u', 10, 0, NULL},
        {"tokenizer.ggml.eos_token_id", 'u', 11, 0, NULL},
        {"tokenizer.ggml.eot_token_id", 'u', 11, 0, NULL},    /* same id: once */
        {"tokenizer.ggml.padding_token_id", 'u', 99, 0, NULL}, /* not a token: none */
    };
    CHECK_OK(GGUF(qwen2, 12, 12, true, true, &hp, &err), &err);
    CHECK_EQ_STR(hp.arch, "qwen2");
    CHECK_EQ_INT(hp.n_ff, 48);
    CHECK_EQ_INT(hp.n_head_kv, 2);
    CHECK_EQ_INT(hp.head_dim, 4);
    CHECK_EQ_INT(hp.n_rot, 4);
    CHECK_NEAR(hp.rope_theta, 1e6, 0);
    CHECK(hp.rope_layout == LK_ROPE_HALF);
    CHECK(hp.attn_qkv_bias);
    CHECK(!hp.tied_embeddings);
    CHECK_EQ_INT(hp.bos_id, 10);
    CHECK_EOS(hp, 11);
    CHECK_EQ_INT(hp.pad_id, -1);
    kv qwen2_uneven[sizeof qwen2 / sizeof qwen2[0]];
    memcpy(qwen2_uneven, qwen2, sizeof qwen2);
    qwen2_uneven[6].num2 = 4;
    CHECK(GGUF(qwen2_uneven, 12, 12, true, true, &hp, &err) == LK_ERR_UNSUPPORTED);
    CHECK(contains(err.msg, "qwen2.attention.head_count_kv"));

    const kv phi3[] = {
        {"general.architecture", 's', 0, 0, "phi3"},
        {"phi3.context_length", 'u', 4096, 0, NULL},
        {"phi3.embedding_length", 'u', 32, 0, NULL},
        {"phi3.block_count", 'u', 2, 0, NULL},
        {"phi3.feed_forward_length", 'u', 64, 0, NULL},
        {"phi3.attention.head_count", 'u', 4, 0, NULL},
        {"phi3.attention.layer_norm_rms_epsilon", 'f', 1e-5, 0, NULL},
        {"phi3.rope.dimension_count", 'u', 6, 0, NULL},
        {"phi3.rope.scaling.type", 's', 0, 0, "linear"},
        {"phi3.rope.scaling.factor", 'f', 4.0, 0, NULL},
    };
    CHECK_OK(GGUF(phi3, 0, 20, true, false, &hp, &err), &err);
    CHECK_EQ_STR(hp.arch, "phi3");
    CHECK_EQ_INT(hp.n_vocab, 20); /* from token_embd: no token list */
    CHECK_EQ_INT(hp.n_head_kv, 4);
    CHECK_EQ_INT(hp.head_dim, 8);
    CHECK_EQ_INT(hp.n_rot, 6);
    CHECK(hp.rope_scaling == LK_ROPE_SCALING_LINEAR);
    CHECK_NEAR(hp.rope_factor, 4.0, 0);
    CHECK_EQ_INT(hp.bos_id, -1);
    CHECK_EQ_INT(hp.n_eos, 0);
    kv phi3_yarn[sizeof phi3 / sizeof phi3[0]];
    memcpy(phi3_yarn, phi3, sizeof phi3);
    phi3_yarn[8].str = "yarn";
    CHECK(GGUF(phi3_yarn, 0, 20, true, false, &hp, &err) == LK_ERR_UNSUPPORTED);
    CHECK(contains(err.msg, "yarn"));
    extra_tensor = "rope_factors_long.weight"; /* Phi-3-128k's LongRoPE */
    CHECK(GGUF(phi3, 0, 20, true, false, &hp, &err) == LK_ERR_UNSUPPORTED);
    CHECK(contains(err.msg, "LongRoPE"));
    extra_tensor = NULL;

    const kv gpt2[] = {
        {"general.architecture", 's', 0, 0, "gpt2"},
        {"gpt2.context_length", 'u', 1024, 0, NULL},
        {"gpt2.embedding_length", 'u', 16, 0, NULL},
        {"gpt2.block_count", 'u', 2, 0, NULL},
        {"gpt2.feed_forward_length", 'u', 64, 0, NULL},
        {"gpt2.attention.head_count", 'u', 4, 0, NULL},
        {"gpt2.attention.layer_norm_epsilon", 'f', 1e-5, 0, NULL},
        {"tokenizer.ggml.bos_token_id", 'u', 9, 0, NULL},
        {"tokenizer.ggml.eos_token_id", 'u', 9, 0, NULL},
    };
    CHECK_OK(GGUF(gpt2, 10, 10, true, false, &hp, &err), &err);
    CHECK(hp.norm == LK_NORM_LAYER);
    CHECK(hp.act == LK_ACT_GELU_TANH);
    CHECK(hp.rope_layout == LK_ROPE_NONE);
    CHECK_EQ_INT(hp.n_rot, 0);
    CHECK(hp.attn_qkv_bias);
    CHECK_EOS(hp, 9);

    const kv bert[] = {
        {"general.architecture", 's', 0, 0, "bert"},
        {"bert.context_length", 'u', 512, 0, NULL},
        {"bert.embedding_length", 'u', 16, 0, NULL},
        {"bert.block_count", 'u', 2, 0, NULL},
        {"bert.feed_forward_length", 'u', 64, 0, NULL},
        {"bert.attention.head_count", 'u', 4, 0, NULL},
        {"bert.attention.layer_norm_epsilon", 'f', 1e-12, 0, NULL},
        {"tokenizer.ggml.padding_token_id", 'u', 0, 0, NULL},
    };
    CHECK_OK(GGUF(bert, 10, 10, false, false, &hp, &err), &err);
    CHECK(hp.act == LK_ACT_GELU);
    CHECK(hp.norm == LK_NORM_LAYER);
    CHECK_NEAR(hp.norm_eps, 1e-12, 1e-19);
    CHECK_EQ_INT(hp.pad_id, 0);

    /* Errors. */
    const kv no_arch[] = {{"llama.block_count", 'u', 2, 0, NULL}};
    CHECK(GGUF(no_arch, 10, 10, false, false, &hp, &err) == LK_ERR_FORMAT);
    CHECK(contains(err.msg, "general.architecture"));
    CHECK(contains(err.msg, "synthetic.gguf"));
    const kv falcon[] = {{"general.architecture", 's', 0, 0, "falcon"}};
    CHECK(GGUF(falcon, 10, 10, false, false, &hp, &err) == LK_ERR_UNSUPPORTED);
    CHECK(contains(err.msg, "falcon"));
    CHECK(contains(err.msg, lk_gguf_supported_archs()));
    const kv arch_int[] = {{"general.architecture", 'u', 3, 0, NULL}};
    CHECK(GGUF(arch_int, 10, 10, false, false, &hp, &err) == LK_ERR_FORMAT);

    kv llama[] = {
        {"general.architecture", 's', 0, 0, "llama"},
        {"llama.context_length", 'u', 2048, 0, NULL},
        {"llama.embedding_length", 'u', 16, 0, NULL},
        {"llama.block_count", 'u', 2, 0, NULL},
        {"llama.feed_forward_length", 'u', 64, 0, NULL},
        {"llama.attention.head_count", 'u', 4, 0, NULL},
        {"llama.attention.head_count_kv", 'u', 2, 0, NULL},
        {"llama.attention.layer_norm_rms_epsilon", 'f', 1e-5, 0, NULL},
    };
    CHECK_OK(GGUF(llama, 10, 10, false, false, &hp, &err), &err);
    CHECK(hp.tied_embeddings);
    CHECK(hp.rope_layout == LK_ROPE_INTERLEAVED);
    /* token list and token_embd disagree */
    CHECK(GGUF(llama, 10, 12, false, false, &hp, &err) == LK_ERR_FORMAT);
    CHECK(contains(err.msg, "token_embd"));
    /* no vocabulary size anywhere */
    CHECK(GGUF(llama, 0, 0, false, false, &hp, &err) == LK_ERR_FORMAT);
    struct {
        int index;
        kv replacement;
        lk_status want;
        const char *mention;
    } cases[] = {
        {3, {"llama.block_count", 's', 0, 0, "2"}, LK_ERR_FORMAT, "llama.block_count"},
        {3, {"llama.block_count", 'u', 0, 0, NULL}, LK_ERR_RANGE, "n_layer"},
        {3, {"llama.block_count", 'i', -2, 0, NULL}, LK_ERR_RANGE, "llama.block_count"},
        {2, {"llama.embedding_len", 'u', 16, 0, NULL}, LK_ERR_FORMAT, "llama.embedding_length"},
        {6, {"llama.attention.head_count_kv", 'u', 3, 0, NULL}, LK_ERR_RANGE, "divide"},
        {7, {"llama.attention.layer_norm_rms_epsilon", 'u', 1, 0, NULL}, LK_ERR_FORMAT,
         "layer_norm_rms_epsilon"},
        {7, {"llama.attention.layer_norm_epsilon", 'f', 1e-5, 0, NULL}, LK_ERR_FORMAT,
         "layer_norm_rms_epsilon"},
        {1, {"llama.rope.dimension_count", 'u', 5, 0, NULL}, LK_ERR_FORMAT, "context_length"},
        {5, {"llama.attention.head_count", 'u', 3, 0, NULL}, LK_ERR_RANGE, "multiple"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kv mod[sizeof llama / sizeof llama[0]];
        memcpy(mod, llama, sizeof llama);
        mod[cases[i].index] = cases[i].replacement;
        lk_status st = GGUF(mod, 10, 10, false, false, &hp, &err);
        CHECK_MSG(st == cases[i].want, "gguf case %zu: %s: %s", i, lk_status_name(st), err.msg);
        CHECK_MSG(contains(err.msg, cases[i].mention), "gguf case %zu: \"%s\" lacks \"%s\"", i,
                  err.msg, cases[i].mention);
    }
}

int main(void) {
    test_tinyllama();
    test_llama32();
    test_mistral();
    test_qwen2();
    test_qwen3();
    test_gemma2();
    test_gemma();
    test_phi3();
    test_gpt2();
    test_bert();
    test_eos_forms();
    test_errors();
    test_load_dir();
    test_names();
    test_gguf_fixtures();
    test_gguf_synthetic();
    return lk_test_finish("test_hf_config");
}
