/* Built-in chat formats (see builtin_formats.h). Each template is written
 * from the model family's official tokenizer_config.json chat_template,
 * reduced to plain text turns (no tools, no multimodal content). */
#include "chat/builtin_formats.h"

#include <string.h>

static const lk_chat_format k_formats[] = {
    {"chatml", "Qwen, Yi, OpenHermes and other ChatML models",
     "{%- for message in messages %}"
     "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
     "{%- endfor %}"
     "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}",
     "<|im_end|>"},
    {"llama2", "Llama 2 chat ([INST] ... [/INST], <<SYS>>)",
     "{%- if messages and messages[0]['role'] == 'system' %}"
     "{%- set loop_messages = messages[1:] %}{%- set system_message = messages[0]['content'] %}"
     "{%- else %}{%- set loop_messages = messages %}{%- set system_message = false %}{%- endif %}"
     "{%- for message in loop_messages %}"
     "{%- if loop.index0 == 0 and system_message != false %}"
     "{%- set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
     "{%- else %}{%- set content = message['content'] %}{%- endif %}"
     "{%- if message['role'] == 'user' %}{{- bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
     "{%- elif message['role'] == 'assistant' %}{{- ' ' + content.strip() + ' ' + eos_token }}{%- endif %}"
     "{%- endfor %}",
     ""},
    {"llama3", "Llama 3, 3.1, 3.2, 3.3 instruct",
     "{%- for message in messages %}"
     "{%- set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + "
     "message['content'] | trim + '<|eot_id|>' %}"
     "{%- if loop.index0 == 0 %}{%- set content = bos_token + content %}{%- endif %}"
     "{{- content }}"
     "{%- endfor %}"
     "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}",
     "<|eot_id|>"},
    {"gemma", "Gemma 2 and 3 instruct (the system message opens the first user turn)",
     "{{- bos_token }}"
     "{%- if messages and messages[0]['role'] == 'system' %}"
     "{%- set first_user_prefix = messages[0]['content'] + '\\n\\n' %}{%- set loop_messages = messages[1:] %}"
     "{%- else %}{%- set first_user_prefix = '' %}{%- set loop_messages = messages %}{%- endif %}"
     "{%- for message in loop_messages %}"
     "{%- if message['role'] == 'assistant' %}{%- set role = 'model' %}{%- else %}{%- set role = message['role'] %}{%- endif %}"
     "{{- '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else '') + "
     "message['content'] | trim + '<end_of_turn>\\n' }}"
     "{%- endfor %}"
     "{%- if add_generation_prompt %}{{- '<start_of_turn>model\\n' }}{%- endif %}",
     "<end_of_turn>"},
    {"phi3", "Phi-3 and Phi-3.5 instruct",
     "{%- for message in messages %}"
     "{%- if message['role'] == 'system' %}{{- '<|system|>\\n' + message['content'] + '<|end|>\\n' }}"
     "{%- elif message['role'] == 'user' %}{{- '<|user|>\\n' + message['content'] + '<|end|>\\n' }}"
     "{%- elif message['role'] == 'assistant' %}{{- '<|assistant|>\\n' + message['content'] + '<|end|>\\n' }}"
     "{%- endif %}"
     "{%- endfor %}"
     "{%- if add_generation_prompt %}{{- '<|assistant|>\\n' }}{%- else %}{{- eos_token }}{%- endif %}",
     "<|end|>"},
    {"mistral", "Mistral 7B instruct ([INST] ... [/INST]; the system message opens the first user turn)",
     "{{- bos_token }}"
     "{%- if messages and messages[0]['role'] == 'system' %}"
     "{%- set system_message = messages[0]['content'] + '\\n\\n' %}{%- set loop_messages = messages[1:] %}"
     "{%- else %}{%- set system_message = '' %}{%- set loop_messages = messages %}{%- endif %}"
     "{%- for message in loop_messages %}"
     "{%- if message['role'] == 'user' %}"
     "{{- '[INST] ' + (system_message if loop.first else '') + message['content'] + ' [/INST]' }}"
     "{%- elif message['role'] == 'assistant' %}{{- message['content'] + eos_token }}{%- endif %}"
     "{%- endfor %}",
     ""},
};

const lk_chat_format *lk_chat_format_find(const char *name) {
    for (size_t i = 0; i < sizeof k_formats / sizeof k_formats[0]; i++)
        if (!strcmp(k_formats[i].name, name)) return &k_formats[i];
    return NULL;
}

const lk_chat_format *lk_chat_format_at(size_t i) {
    return i < sizeof k_formats / sizeof k_formats[0] ? &k_formats[i] : NULL;
}
