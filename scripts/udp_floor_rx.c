// udp_floor_rx: drains port 9999 with recvmmsg (the receiver of scripts/bench_udp_floor.sh).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <sys/socket.h>
#include <stdio.h>
int main(){int f=socket(AF_INET,SOCK_DGRAM,0);struct sockaddr_in a={.sin_family=AF_INET,.sin_port=htons(9999)};bind(f,(void*)&a,sizeof a);
 int sz=8<<20;setsockopt(f,SOL_SOCKET,SO_RCVBUF,&sz,sizeof sz);
 static char b[64][2048];struct mmsghdr m[64];struct iovec v[64];for(int i=0;i<64;i++){v[i].iov_base=b[i];v[i].iov_len=2048;m[i].msg_hdr=(struct msghdr){.msg_iov=&v[i],.msg_iovlen=1};}
 for(;;)recvmmsg(f,m,64,0,0);}
