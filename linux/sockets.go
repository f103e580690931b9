package linux

import "fmt"

// Address family names by number (AF_*), as in include/linux/socket.h.
var familyNames = map[int]string{
	0: "AF_UNSPEC", 1: "AF_UNIX", 2: "AF_INET", 3: "AF_AX25", 4: "AF_IPX",
	5: "AF_APPLETALK", 6: "AF_NETROM", 7: "AF_BRIDGE", 8: "AF_ATMPVC",
	9: "AF_X25", 10: "AF_INET6", 11: "AF_ROSE", 12: "AF_DECnet",
	13: "AF_NETBEUI", 14: "AF_SECURITY", 15: "AF_KEY", 16: "AF_NETLINK",
	17: "AF_PACKET", 18: "AF_ASH", 19: "AF_ECONET", 20: "AF_ATMSVC",
	21: "AF_RDS", 22: "AF_SNA", 23: "AF_IRDA", 24: "AF_PPPOX",
	25: "AF_WANPIPE", 26: "AF_LLC", 27: "AF_IB", 28: "AF_MPLS", 29: "AF_CAN",
	30: "AF_TIPC", 31: "AF_BLUETOOTH", 32: "AF_IUCV", 33: "AF_RXRPC",
	34: "AF_ISDN", 35: "AF_PHONET", 36: "AF_IEEE802154", 37: "AF_CAIF",
	38: "AF_ALG", 39: "AF_NFC", 40: "AF_VSOCK", 41: "AF_KCM", 42: "AF_QIPCRTR",
	43: "AF_SMC", 44: "AF_XDP", 45: "AF_MCTP",
}

var familyByName = func() map[string]int {
	m := map[string]int{}
	for n, s := range familyNames {
		m[s] = n
	}
	return m
}()

// AFMax is one more than the highest family number (AF_MAX).
const AFMax = 46

// FamilyName returns the AF_* name of family f.
func FamilyName(f int) string {
	if s, ok := familyNames[f]; ok {
		return s
	}
	return fmt.Sprintf("AF_%d", f)
}

// FamilyNumber returns the number of the family called name (AF_*).
func FamilyNumber(name string) (int, bool) {
	f, ok := familyByName[name]
	return f, ok
}

// Socket types (the low bits of socket(2)'s type argument).
var typeNames = map[int]string{
	1: "SOCK_STREAM", 2: "SOCK_DGRAM", 3: "SOCK_RAW", 4: "SOCK_RDM",
	5: "SOCK_SEQPACKET", 6: "SOCK_DCCP", 10: "SOCK_PACKET",
}

var typeByName = func() map[string]int {
	m := map[string]int{}
	for n, s := range typeNames {
		m[s] = n
	}
	return m
}()

// SockTypeMask selects the socket type from socket(2)'s type argument; the
// bits above it are flags such as SOCK_NONBLOCK and SOCK_CLOEXEC.
const SockTypeMask = 0xf

// SockFlagsMask is SOCK_NONBLOCK|SOCK_CLOEXEC on x86 and arm64.
const SockFlagsMask = 0o4000 | 0o2000000

// SockTypeName returns the SOCK_* name of type t (flags masked off).
func SockTypeName(t int) string {
	t &= SockTypeMask
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("SOCK_%d", t)
}

// SockTypeNumber returns the number of the socket type called name.
func SockTypeNumber(name string) (int, bool) {
	t, ok := typeByName[name]
	return t, ok
}

// socketcall(2) sub-calls that create sockets, for the i386 ABI.
const (
	SocketcallSocket     = 1
	SocketcallSocketpair = 8
)

// AFNetlink is AF_NETLINK: its sockets are told apart by protocol
// (socket(2)'s third argument), each a different kernel subsystem.
const AFNetlink = 16

// Netlink protocols (linux/netlink.h).
var netlinkNames = map[int]string{
	0: "NETLINK_ROUTE", 1: "NETLINK_UNUSED", 2: "NETLINK_USERSOCK", 3: "NETLINK_FIREWALL",
	4: "NETLINK_SOCK_DIAG", 5: "NETLINK_NFLOG", 6: "NETLINK_XFRM", 7: "NETLINK_SELINUX",
	8: "NETLINK_ISCSI", 9: "NETLINK_AUDIT", 10: "NETLINK_FIB_LOOKUP", 11: "NETLINK_CONNECTOR",
	12: "NETLINK_NETFILTER", 13: "NETLINK_IP6_FW", 14: "NETLINK_DNRTMSG", 15: "NETLINK_KOBJECT_UEVENT",
	16: "NETLINK_GENERIC", 18: "NETLINK_SCSITRANSPORT", 19: "NETLINK_ECRYPTFS", 20: "NETLINK_RDMA",
	21: "NETLINK_CRYPTO", 22: "NETLINK_SMC",
}

var netlinkByName = func() map[string]int {
	m := map[string]int{}
	for n, s := range netlinkNames {
		m[s] = n
	}
	return m
}()

// NetlinkProtocolName returns the name (NETLINK_*) of netlink protocol p.
func NetlinkProtocolName(p int) string {
	if s, ok := netlinkNames[p]; ok {
		return s
	}
	return fmt.Sprintf("NETLINK_%d", p)
}

// NetlinkProtocolNumber returns the number of the netlink protocol called
// name (NETLINK_*).
func NetlinkProtocolNumber(name string) (int, bool) {
	p, ok := netlinkByName[name]
	return p, ok
}
