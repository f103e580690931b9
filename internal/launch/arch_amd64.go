package launch

const isArm64 = false
