//go:build linux

package cluster

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// BenchmarkLogStore_SharedDisk measures one durable log write as a node
// sees it, alone on the disk and with two more writers beside it (the
// other two nodes of a three-node cluster on one machine), for each log
// store and for what redis-server's appendfsync always does (append to a
// file, fdatasync). Each writer stores one entry of 24 SETs' size at a
// time, the proposer's batch at P1 with 50 clients. µs/write is the mean
// time of one write on one writer; docs/BENCHMARKS.md ("One disk per node")
// uses the writers=1 figures for a cluster whose nodes have a disk each
// and the writers=3 figures for this machine's shared disk.
//
//	go test -run '^$' -bench LogStore_SharedDisk -benchtime 2000x ./cluster
func BenchmarkLogStore_SharedDisk(b *testing.B) {
	const entryBytes = 24 * 60 // 24 SETs of a 16-byte key and 3-byte value, framed
	for _, kind := range []string{"aof", LogStoreBolt, LogStoreWAL} {
		for _, writers := range []int{1, 3} {
			b.Run(fmt.Sprintf("store=%s/writers=%d", kind, writers), func(b *testing.B) {
				ws := make([]func(i uint64) error, writers)
				for w := range ws {
					write, closer, err := openWriter(b, kind, entryBytes)
					if err != nil {
						b.Fatal(err)
					}
					defer closer()
					ws[w] = write
				}
				var wg sync.WaitGroup
				var mu sync.Mutex
				var total time.Duration
				errs := make(chan error, writers)
				b.ResetTimer()
				for _, write := range ws {
					wg.Add(1)
					go func() {
						defer wg.Done()
						start := time.Now()
						for i := range b.N {
							if err := write(uint64(i) + 1); err != nil {
								errs <- err
								return
							}
						}
						mu.Lock()
						total += time.Since(start)
						mu.Unlock()
					}()
				}
				wg.Wait()
				b.StopTimer()
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
				b.ReportMetric(float64(total.Microseconds())/float64(writers*b.N), "µs/write")
			})
		}
	}
}

// openWriter opens one writer of kind in a fresh directory: a function
// that makes the i-th write durable, and its closer.
func openWriter(b *testing.B, kind string, entryBytes int) (func(uint64) error, func(), error) {
	dir := b.TempDir()
	data := make([]byte, entryBytes)
	if kind == "aof" {
		f, err := os.OpenFile(filepath.Join(dir, "appendonly.aof"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, err
		}
		write := func(uint64) error {
			if _, err := f.Write(data); err != nil {
				return err
			}
			return syscall.Fdatasync(int(f.Fd())) // as redis-server's fsync on Linux
		}
		return write, func() { f.Close() }, nil
	}
	var (
		s   *countingStore
		err error
	)
	if kind == LogStoreWAL {
		s, err = openWALLog(dir, Config{Logger: slog.New(slog.DiscardHandler)})
	} else {
		s, err = openBoltLog(dir)
	}
	if err != nil {
		return nil, nil, err
	}
	write := func(i uint64) error {
		return s.StoreLogs([]*raft.Log{{Index: i, Term: 1, Type: raft.LogCommand, Data: data}})
	}
	return write, func() { s.Close() }, nil
}
