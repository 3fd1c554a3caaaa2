/* The model-file abstraction: the same model seen through GGUF, llama2.c and
 * an HF folder gives the same hyper-parameters and tensor table. */
#include <sys/stat.h>

#include "format/safetensors.h"
#include "tensor/dtype.h"
#include "test.h"

static void check_stories(const lk_model_file *mf) {
    const lk_hparams *hp = lk_model_file_hparams(mf);
    CHECK_EQ_STR(hp->arch, "llama");
    CHECK_EQ_INT(hp->n_embd, 64);
    CHECK_EQ_INT(hp->n_layer, 5);
    CHECK_EQ_INT(hp->n_head, 8);
    CHECK_EQ_INT(hp->n_head_kv, 4);
    CHECK_EQ_INT(hp->n_vocab, 512);
    CHECK_EQ_INT(hp->n_ff, 172);
    CHECK_EQ_INT(hp->head_dim, 8);
    CHECK(hp->rope_layout == LK_ROPE_INTERLEAVED);
    const lk_tensor_info *q = lk_model_file_find_tensor(mf, "blk.2.attn_q.weight");
    CHECK(q && q->n_dims == 2 && q->shape[0] == 64 && q->shape[1] == 64);
    const lk_tensor_info *k = lk_model_file_find_tensor(mf, "blk.2.attn_k.weight");
    CHECK(k && k->n_dims == 2 && k->shape[0] == 32 && k->shape[1] == 64);
    const lk_tensor_info *e = lk_model_file_find_tensor(mf, "token_embd.weight");
    CHECK(e && e->shape[0] == 512 && e->shape[1] == 64 && e->dtype == LK_DTYPE_F32);
}

static void test_stories_both_formats(void) {
    const char *bin = lk_test_fixture("llama2c/stories260K.bin");
    const char *gguf = lk_test_fixture("gguf/stories260K.gguf");
    if (!bin || !gguf) {
        printf("SKIP part: stories260K fixtures not found\n");
        return;
    }
    lk_error err;
    lk_model_file *a = NULL, *b = NULL;
    CHECK_OK(lk_model_file_open(bin, &a, &err), &err);
    CHECK_OK(lk_model_file_open(gguf, &b, &err), &err);
    if (!a || !b) goto done;
    CHECK(lk_model_file_format(a) == LK_FORMAT_LLAMA2C);
    CHECK(lk_model_file_format(b) == LK_FORMAT_GGUF);
    check_stories(a);
    check_stories(b);
    CHECK_EQ_INT(lk_model_file_hparams(b)->n_ctx_train, 2048);
    CHECK_EQ_INT(lk_model_file_hparams(a)->n_ctx_train, 512);
    CHECK_EQ_STR(lk_model_file_meta(b)->tokenizer_model, "llama");
    CHECK_EQ_INT(lk_model_file_meta(b)->tokenizer_vocab, 512);
    /* Every tensor of the llama2.c file exists in the GGUF with the same bytes. */
    size_t same = 0;
    for (size_t i = 0; i < lk_model_file_tensor_count(a); i++) {
        const lk_tensor_info *ta = lk_model_file_tensor(a, i);
        const lk_tensor_info *tb = lk_model_file_find_tensor(b, ta->name);
        CHECK_MSG(tb != NULL, "%s missing from the GGUF", ta->name);
        if (!tb) continue;
        CHECK_MSG(ta->nbytes == tb->nbytes && memcmp(ta->data, tb->data, ta->nbytes) == 0,
                  "%s differs", ta->name);
        same++;
    }
    CHECK_EQ_INT(same, 2 + 5 * 9);
    /* The GGUF stores the (shared) classifier again as output.weight. */
    CHECK(lk_model_file_find_tensor(a, "output.weight") == NULL);
    CHECK(lk_model_file_find_tensor(b, "output.weight") != NULL);
    CHECK_EQ_INT(lk_model_file_meta(a)->n_params + 512 * 64, lk_model_file_meta(b)->n_params);
done:
    lk_model_file_close(a);
    lk_model_file_close(b);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

/* A tiny gpt2 HF folder: names are mapped and Conv1D weights transposed. */
static void test_hf_dir_gpt2(void) {
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/gpt2", lk_test_tmpdir());
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/config.json", dir);
    write_text(path, "{\"model_type\":\"gpt2\",\"vocab_size\":8,\"n_embd\":4,\"n_layer\":1,"
                     "\"n_head\":2,\"n_positions\":16,\"bos_token_id\":0,\"eos_token_id\":0}");
    float wte[8 * 4], wpe[16 * 4], c_attn[4 * 12], ones[12];
    for (int i = 0; i < 32; i++) wte[i] = (float)i;
    for (int i = 0; i < 64; i++) wpe[i] = (float)-i;
    for (int i = 0; i < 48; i++) c_attn[i] = (float)i; /* [in=4, out=12] */
    for (int i = 0; i < 12; i++) ones[i] = 1;
    lk_safetensors_writer *w = lk_safetensors_writer_new();
    lk_error err;
    int64_t s_wte[2] = {8, 4}, s_wpe[2] = {16, 4}, s_attn[2] = {4, 12}, s4[1] = {4}, s12[1] = {12};
    lk_safetensors_writer_add_tensor(w, "wte.weight", LK_DTYPE_F32, 2, s_wte, wte, sizeof wte, &err);
    lk_safetensors_writer_add_tensor(w, "wpe.weight", LK_DTYPE_F32, 2, s_wpe, wpe, sizeof wpe, &err);
    lk_safetensors_writer_add_tensor(w, "h.0.attn.c_attn.weight", LK_DTYPE_F32, 2, s_attn, c_attn,
                                     sizeof c_attn, &err);
    lk_safetensors_writer_add_tensor(w, "h.0.attn.c_attn.bias", LK_DTYPE_F32, 1, s12, ones,
                                     sizeof ones, &err);
    lk_safetensors_writer_add_tensor(w, "ln_f.weight", LK_DTYPE_F32, 1, s4, ones, 16, &err);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    CHECK_OK(lk_safetensors_writer_write(w, path, &err), &err);
    lk_safetensors_writer_free(w);

    lk_model_file *mf = NULL;
    CHECK_OK(lk_model_file_open(dir, &mf, &err), &err);
    if (!mf) return;
    CHECK(lk_model_file_format(mf) == LK_FORMAT_HF_DIR);
    CHECK_EQ_STR(lk_model_file_hparams(mf)->arch, "gpt2");
    CHECK(lk_model_file_hparams(mf)->tied_embeddings);
    const lk_tensor_info *qkv = lk_model_file_find_tensor(mf, "blk.0.attn_qkv.weight");
    CHECK(qkv && qkv->shape[0] == 12 && qkv->shape[1] == 4);
    if (qkv) {
        const float *t = qkv->data;
        /* out row r, in column c == original [c][r] = c*12 + r */
        CHECK(t[0 * 4 + 1] == 12.0f && t[5 * 4 + 3] == 41.0f);
    }
    CHECK(lk_model_file_find_tensor(mf, "token_embd.weight") != NULL);
    CHECK(lk_model_file_find_tensor(mf, "position_embd.weight") != NULL);
    CHECK(lk_model_file_find_tensor(mf, "output_norm.weight") != NULL);
    lk_model_file_close(mf);
}

static void test_errors(void) {
    lk_error err;
    lk_model_file *mf;
    const char *falcon = lk_test_fixture("llamacpp-vocab/ggml-vocab-falcon.gguf");
    if (falcon) {
        /* Opening to run refuses an architecture llmkit lacks; inspecting shows it. */
        CHECK(lk_model_file_open(falcon, &mf, &err) == LK_ERR_UNSUPPORTED);
        CHECK(strstr(err.msg, "falcon") != NULL);
        CHECK_OK(lk_model_file_inspect(falcon, &mf, &err), &err);
        if (mf) {
            CHECK(lk_model_file_unsupported(mf) != NULL);
            CHECK_EQ_STR(lk_model_file_hparams(mf)->arch, "falcon");
            CHECK_EQ_INT(lk_model_file_hparams(mf)->n_embd, 4544);
            lk_model_file_close(mf);
        }
    }
    CHECK(lk_model_file_open("/nonexistent/model.gguf", &mf, &err) == LK_ERR_NOT_FOUND);
    CHECK(strstr(err.msg, "/nonexistent/model.gguf") != NULL);
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/empty", lk_test_tmpdir());
    mkdir(dir, 0755);
    CHECK(lk_model_file_open(dir, &mf, &err) == LK_ERR_NOT_FOUND);
    CHECK(strstr(err.msg, "config.json") != NULL);
    snprintf(path, sizeof path, "%s/config.json", dir);
    write_text(path, "{\"model_type\":\"mamba\"}");
    CHECK(lk_model_file_open(dir, &mf, &err) == LK_ERR_UNSUPPORTED);
    CHECK(strstr(err.msg, "mamba") != NULL && strstr(err.msg, "llama") != NULL);
    snprintf(path, sizeof path, "%s/x.gguf", dir);
    write_text(path, "NOPE not a gguf");
    CHECK(lk_model_file_open(path, &mf, &err) == LK_ERR_FORMAT);
    snprintf(path, sizeof path, "%s/model.txt", dir);
    write_text(path, "hello");
    CHECK(lk_model_file_open(path, &mf, &err) == LK_ERR_UNSUPPORTED);
}

int main(void) {
    test_stories_both_formats();
    test_hf_dir_gpt2();
    test_errors();
    return lk_test_finish("test_model_file");
}
