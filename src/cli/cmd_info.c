/* `llmkit info PATH`: what a model file holds. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

int cmd_info(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        printf("usage: llmkit info PATH [--json] [--tensors]\n");
        return argc < 2 ? 2 : 0;
    }
    lk_error err;
    lk_model_file *mf;
    if (lk_model_file_open(argv[1], &mf, &err) != LK_OK) return cli_fail(&err);
    lk_model_file_close(mf);
    return 0;
}
