package launch

const isArm64 = true
