// udp_floor: N UDP sockets each send a 172-byte datagram every 20 ms to DST:9999 (run by
// scripts/bench_udp_floor.sh). mode 0: one sendto per socket; mode 1: io_uring, one
// submission per round in batches of B (48, as a media slot); mode 2: the same, fixed files.
#include <liburing.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
int main(int argc,char**argv){
  int n=atoi(argv[1]),mode=atoi(argv[2]),secs=atoi(argv[3]);const char*dst=argv[4];int batch=argc>5?atoi(argv[5]):48;
  int*fd=malloc(n*sizeof(int));
  struct sockaddr_in to={.sin_family=AF_INET,.sin_port=htons(9999)};inet_pton(AF_INET,dst,&to.sin_addr);
  for(int i=0;i<n;i++){fd[i]=socket(AF_INET,SOCK_DGRAM|SOCK_NONBLOCK,0);struct sockaddr_in a={.sin_family=AF_INET};bind(fd[i],(void*)&a,sizeof a);}
  char buf[172];memset(buf,0x7f,sizeof buf);
  struct io_uring ring;struct msghdr*mh=calloc(n,sizeof *mh);struct iovec*iov=calloc(n,sizeof *iov);
  if(mode){io_uring_queue_init(1024,&ring,0);for(int i=0;i<n;i++){iov[i].iov_base=buf;iov[i].iov_len=172;mh[i].msg_name=&to;mh[i].msg_namelen=sizeof to;mh[i].msg_iov=&iov[i];mh[i].msg_iovlen=1;}
    if(mode==2)io_uring_register_files(&ring,fd,n);}
  struct rusage r0,r1;getrusage(RUSAGE_SELF,&r0);double t0=now(),next=t0;long sent=0;
  while(now()-t0<secs){
    if(mode==0){for(int i=0;i<n;i++){if(sendto(fd[i],buf,172,0,(void*)&to,sizeof to)==172)sent++;}}
    else{for(int i=0;i<n;){int k=0;for(;k<batch&&i<n;k++,i++){struct io_uring_sqe*s=io_uring_get_sqe(&ring);
          if(mode==2){io_uring_prep_sendmsg(s,i,&mh[i],0);s->flags|=IOSQE_FIXED_FILE;}else io_uring_prep_sendmsg(s,fd[i],&mh[i],0);}
        io_uring_submit_and_wait(&ring,k);struct io_uring_cqe*c;unsigned head;int seen=0;
        io_uring_for_each_cqe(&ring,head,c){if(c->res==172)sent++;seen++;}io_uring_cq_advance(&ring,seen);}}
    next+=0.02;double w=next-now();if(w>0){struct timespec ts={0,(long)(w*1e9)};nanosleep(&ts,0);}
  }
  getrusage(RUSAGE_SELF,&r1);double el=now()-t0;
  double u=(r1.ru_utime.tv_sec-r0.ru_utime.tv_sec)+(r1.ru_utime.tv_usec-r0.ru_utime.tv_usec)/1e6;
  double s=(r1.ru_stime.tv_sec-r0.ru_stime.tv_sec)+(r1.ru_stime.tv_usec-r0.ru_stime.tv_usec)/1e6;
  printf("mode=%d n=%d sent=%ld rate=%.0f/s user=%.3fs sys=%.3fs cpu=%.2f%% per-call=%.4f%% us/send=%.2f\n",mode,n,sent,sent/el,u,s,100*(u+s)/el,100*(u+s)/el/n,(u+s)/sent*1e6);
}
