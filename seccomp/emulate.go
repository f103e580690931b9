package seccomp

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/net/bpf"
)

// Data is struct seccomp_data: what a filter sees of one syscall.
type Data struct {
	Nr   int32
	Arch uint32
	IP   uint64
	Args [6]uint64
}

// Bytes lays d out as the kernel does on a little-endian host.
func (d Data) Bytes() []byte {
	b := make([]byte, 64)
	binary.LittleEndian.PutUint32(b[0:], uint32(d.Nr))
	binary.LittleEndian.PutUint32(b[4:], d.Arch)
	binary.LittleEndian.PutUint64(b[8:], d.IP)
	for i, a := range d.Args {
		binary.LittleEndian.PutUint64(b[16+8*i:], a)
	}
	return b
}

// Classic BPF opcode parts (include/uapi/linux/filter.h).
const (
	clsLD, clsLDX, clsST, clsSTX, clsALU, clsJMP, clsRET, clsMISC = 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07
	modeIMM, modeABS, modeMEM, modeLEN                            = 0x00, 0x20, 0x60, 0x80
	srcK, srcX                                                    = 0x00, 0x08
)

// Emulate runs a seccomp program on d as the kernel would and returns its
// return value and the number of instructions executed. It implements the
// classic BPF subset seccomp accepts (32-bit absolute loads of
// seccomp_data, scratch memory, ALU, jumps, returns), so it can also count
// programs exported by libseccomp.
func Emulate(prog []bpf.RawInstruction, d Data) (ret uint32, steps int, err error) {
	return emulate(prog, d, nil)
}

// emulate is Emulate, calling trace (if not nil) with each instruction
// executed.
func emulate(prog []bpf.RawInstruction, d Data, trace func(bpf.RawInstruction)) (ret uint32, steps int, err error) {
	data := d.Bytes()
	var a, x uint32
	var mem [16]uint32
	for pc := 0; pc < len(prog); pc++ {
		steps++
		in := prog[pc]
		if trace != nil {
			trace(in)
		}
		k := in.K
		switch in.Op & 0x07 {
		case clsLD, clsLDX:
			var v uint32
			switch in.Op & 0xe0 {
			case modeIMM:
				v = k
			case modeABS:
				if in.Op&0x18 != 0x00 || k%4 != 0 || k+4 > uint32(len(data)) {
					return 0, steps, fmt.Errorf("instruction %d: bad load %#x [%d]", pc, in.Op, k)
				}
				v = binary.LittleEndian.Uint32(data[k:])
			case modeMEM:
				if k >= 16 {
					return 0, steps, fmt.Errorf("instruction %d: bad scratch slot %d", pc, k)
				}
				v = mem[k]
			case modeLEN:
				v = uint32(len(data))
			default:
				return 0, steps, fmt.Errorf("instruction %d: unsupported load %#x", pc, in.Op)
			}
			if in.Op&0x07 == clsLD {
				a = v
			} else {
				x = v
			}
		case clsST, clsSTX:
			if k >= 16 {
				return 0, steps, fmt.Errorf("instruction %d: bad scratch slot %d", pc, k)
			}
			if in.Op&0x07 == clsST {
				mem[k] = a
			} else {
				mem[k] = x
			}
		case clsALU:
			v := k
			if in.Op&srcX != 0 {
				v = x
			}
			switch in.Op & 0xf0 {
			case 0x00:
				a += v
			case 0x10:
				a -= v
			case 0x20:
				a *= v
			case 0x30:
				if v == 0 {
					return 0, steps, nil
				}
				a /= v
			case 0x40:
				a |= v
			case 0x50:
				a &= v
			case 0x60:
				a <<= v & 31
			case 0x70:
				a >>= v & 31
			case 0x80:
				a = -a
			case 0x90:
				if v == 0 {
					return 0, steps, nil
				}
				a %= v
			case 0xa0:
				a ^= v
			default:
				return 0, steps, fmt.Errorf("instruction %d: unsupported alu %#x", pc, in.Op)
			}
		case clsJMP:
			v := k
			if in.Op&srcX != 0 {
				v = x
			}
			var cond bool
			switch in.Op & 0xf0 {
			case 0x00: // ja
				pc += int(k)
				continue
			case 0x10:
				cond = a == v
			case 0x20:
				cond = a > v
			case 0x30:
				cond = a >= v
			case 0x40:
				cond = a&v != 0
			default:
				return 0, steps, fmt.Errorf("instruction %d: unsupported jump %#x", pc, in.Op)
			}
			if cond {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case clsRET:
			switch in.Op & 0x18 {
			case srcK:
				return k, steps, nil
			case 0x10: // BPF_A
				return a, steps, nil
			}
			return 0, steps, fmt.Errorf("instruction %d: unsupported ret %#x", pc, in.Op)
		case clsMISC:
			if in.Op&0xf8 == 0 { // tax
				x = a
			} else { // txa
				a = x
			}
		}
	}
	return 0, steps, fmt.Errorf("program ran off its end")
}
