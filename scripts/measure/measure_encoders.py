"""Times encoder forward passes (embedding models) built from their config with random weights:
eager PyTorch, bf16, attention "sdpa", CUDA-event timing of 10 passes after 3 warm-ups. Prints
one line per (model, batch, sequence length) and a JSON summary; the results are in
validation/cases/measured/encoders-h200-2026-11-30.yaml. Run on a CUDA machine:
    python3 scripts/measure/measure_encoders.py
Configs are those of presets/models/{bert-base-uncased,bge-large-en-v1.5,bge-m3}.yaml.
"""
import torch,time,json,sys,transformers
from transformers import BertConfig,BertModel,XLMRobertaConfig,XLMRobertaModel
torch.backends.cuda.matmul.allow_tf32=True
C={'bert-base-uncased':(BertConfig,BertModel,dict(vocab_size=30522,hidden_size=768,num_hidden_layers=12,num_attention_heads=12,intermediate_size=3072,max_position_embeddings=512,type_vocab_size=2)),
'bge-large-en-v1.5':(BertConfig,BertModel,dict(vocab_size=30522,hidden_size=1024,num_hidden_layers=24,num_attention_heads=16,intermediate_size=4096,max_position_embeddings=512,type_vocab_size=2)),
'bge-m3':(XLMRobertaConfig,XLMRobertaModel,dict(vocab_size=250002,hidden_size=1024,num_hidden_layers=24,num_attention_heads=16,intermediate_size=4096,max_position_embeddings=8194,type_vocab_size=1,pad_token_id=1))}
R=[]
for name,(Cf,M,kw) in C.items():
  cfg=Cf(**kw,attn_implementation='sdpa');m=M(cfg).to('cuda',torch.bfloat16).eval()
  for b,s in ([32,512],[128,512],[1,512]) + (([8,2048],) if name=='bge-m3' else ()):
    x=torch.randint(5,1000,(b,s),device='cuda')
    with torch.inference_mode():
      for _ in range(3):m(input_ids=x)
      torch.cuda.synchronize();e0,e1=torch.cuda.Event(True),torch.cuda.Event(True);n=10;e0.record()
      for _ in range(n):m(input_ids=x)
      e1.record();torch.cuda.synchronize();t=e0.elapsed_time(e1)/n/1e3
    R.append(dict(model=name,batch=b,seq=s,seconds=t,tokens_per_s=b*s/t));print(R[-1],flush=True)
  del m;torch.cuda.empty_cache()
print(json.dumps(dict(gpu=torch.cuda.get_device_name(),torch=torch.__version__,transformers=transformers.__version__,results=R)))
