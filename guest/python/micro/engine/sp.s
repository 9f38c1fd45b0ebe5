# The C stack pointer (the __stack_pointer global), which C cannot name:
# nlr.c saves it at setjmp and restores it at longjmp, and the collector
# scans the stack below it.
	.globaltype	__stack_pointer, i32
	.text
	.globl	caxton_get_sp
	.type	caxton_get_sp,@function
caxton_get_sp:
	.functype	caxton_get_sp () -> (i32)
	global.get	__stack_pointer
	end_function

	.globl	caxton_set_sp
	.type	caxton_set_sp,@function
caxton_set_sp:
	.functype	caxton_set_sp (i32) -> ()
	local.get	0
	global.set	__stack_pointer
	end_function
