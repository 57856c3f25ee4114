import base64, json, sys, threading, time, urllib.request, io, random
u=sys.argv[1]; stop=time.time()+float(sys.argv[2])
raw=open('/usr/share/darknet/data/dog.jpg','rb').read()
n=[0]
def work():
    while time.time()<stop:
        # append random trailing bytes after EOI: a different SHA-256, the same picture
        data=raw+bytes(random.getrandbits(8) for _ in range(16))
        body=json.dumps({"image":base64.b64encode(data).decode(),"description":"dog","confirm":False,"price":1}).encode()
        try: urllib.request.urlopen(urllib.request.Request(u+"/images/recognize",data=body,method="POST")).read(); n[0]+=1
        except Exception as e: pass
ts=[threading.Thread(target=work) for _ in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]; print("images checked:", n[0])
